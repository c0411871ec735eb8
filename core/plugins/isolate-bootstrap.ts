// Code that runs inside each sandbox context before the plugin's bundle. It keeps the bridge
// references in a closure (nothing reachable from globalThis), captures the intrinsics it relies on
// before plugin code could tamper with them, and returns the functions the host calls:
// [invokeMany (async, on the isolate's thread), start + collect (synchronous, on the host's thread)].
// $0: bridge Reference (token, cap, method, argsJson) -> Promise<json>
// $1: log Reference (token, level, msg, dataJson), fire-and-forget
// $2: JSON of [[capabilityName, [methodNames]], ...]
// $3: done Reference (json of [[token, resultJson], ...]), fire-and-forget
// The host starts calls in batches (all calls issued in one turn of its event loop enter the isolate
// together) and results come back batched too: each thread hop costs more than a small hook.
export const BOOTSTRAP = String.raw`
const bridge = $0, logRef = $1, capSpec = JSON.parse($2), doneRef = $3;
// V8 flags of the host process reach every isolate (--expose-gc adds a global gc, non-configurable
// but writable): plugins get none.
if (typeof globalThis.gc === 'function') globalThis.gc = undefined;
const parse = JSON.parse, stringify = JSON.stringify, assign = Object.assign, freeze = Object.freeze;
const ErrorCtor = Error, StringCtor = String;
const call = (token, cap, method, args) =>
  bridge.apply(undefined, [token, cap, method, stringify(args)], { result: { promise: true } }).then((res) => {
    const r = parse(res);
    if (r.error) { const e = new ErrorCtor(r.error.message); e.code = r.error.code; if (r.error.field) e.field = r.error.field; throw e; }
    return r.value;
  });
const log = (token, level) => (msg, data) => {
  try { logRef.applyIgnored(undefined, [token, level, StringCtor(msg), data === undefined ? '' : stringify(data)]); } catch {}
};
function makeCtx(token, base) {
  const ctx = assign({}, base);
  for (const [name, methods] of capSpec) {
    const parts = name.split('.');
    let o = ctx;
    for (let i = 0; i < parts.length - 1; i++) o = o[parts[i]] || (o[parts[i]] = {});
    const obj = {};
    for (const m of methods) obj[m] = (...args) => call(token, name, m, args);
    o[parts[parts.length - 1]] = freeze(obj);
  }
  const pre = base.preload;
  delete ctx.preload;
  if (pre && pre.state) {
    // Reads of the resource's state are served from the snapshot shipped with the call; writes
    // update it and go to the host (read-your-writes inside the call).
    const local = pre.state;
    const copy = (v) => (v === undefined ? undefined : parse(stringify(v)));
    ctx.state = freeze({
      get: (k) => Promise.resolve(copy(local[k])),
      all: () => Promise.resolve(copy(local)),
      set: (k, v) => call(token, 'state', 'set', [k, v]).then(() => { local[k] = copy(v); }),
      delete: (k) => call(token, 'state', 'delete', [k]).then(() => { delete local[k]; }),
    });
  }
  ctx.log = freeze({ debug: log(token, 'debug'), info: log(token, 'info'), warn: log(token, 'warn'), error: log(token, 'error') });
  ctx.sleep = (ms) => call(token, 'sys', 'sleep', [ms]);
  ctx.now = () => Date.now();
  return ctx;
}
async function invoke(hook, token, baseJson, argsJson) {
  const mod = globalThis.__mccsPlugin;
  const hooks = mod && (mod.default || mod);
  if (!hooks || typeof hooks[hook] !== 'function') return '{"notSupported":true}';
  try {
    const ctx = makeCtx(token, parse(baseJson));
    const r = await hooks[hook](ctx, ...parse(argsJson));
    return stringify({ value: r === undefined ? null : r });
  } catch (e) {
    let message;
    try { message = StringCtor(e && e.message !== undefined ? e.message : e); } catch { message = 'unprintable error'; }
    return stringify({ thrown: { message, code: e && typeof e.code === 'string' ? e.code : undefined } });
  }
};
const outbox = [];
let flushQueued = false;
const flush = () => { flushQueued = false; const batch = outbox.splice(0); doneRef.applyIgnored(undefined, [stringify(batch)]); };
const report = (token, res) => {
  outbox.push([token, res]);
  // Let the other calls of the batch that need no host round trip finish first, then send all.
  if (!flushQueued) { flushQueued = true; Promise.resolve().then().then().then().then(flush); }
};
// Held by this closure (so V8 never collects it): settles only if the isolate dies.
const sentinel = new Promise(() => {});
async function invokeMany(json) {
  if (json === '__sentinel__') return sentinel;
  const items = parse(json);
  // Results that are ready within a few microtask turns go back with this call's own answer (one
  // thread hop for the whole batch); slower ones (waiting on the host) are sent when they finish.
  const batch = { open: true, results: [] };
  for (let i = 0; i < items.length; i++) {
    const it = items[i];
    invoke(it[0], it[1], it[2], it[3]).then((r) => { if (batch.open) batch.results.push([it[1], r]); else report(it[1], r); });
  }
  for (let i = 0; i < 64 && batch.results.length < items.length; i++) await undefined;
  batch.open = false;
  return stringify(batch.results);
}
// The synchronous pair, run on the host's own thread (no thread hop): start() begins the calls;
// isolated-vm drains the microtask queue before start() returns to the host, so collect() then
// hands back every result that needed no host round trip; the rest are reported when they finish.
let syncBatch = { open: false, results: [] };
function start(json) {
  const items = parse(json);
  const batch = syncBatch = { open: true, results: [] };
  for (let i = 0; i < items.length; i++) {
    const it = items[i];
    invoke(it[0], it[1], it[2], it[3]).then((r) => { if (batch.open) batch.results.push([it[1], r]); else report(it[1], r); });
  }
}
function collect() {
  syncBatch.open = false;
  return stringify(syncBatch.results);
}
return [invokeMany, start, collect];
`
