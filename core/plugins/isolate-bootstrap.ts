// Code that runs inside each sandbox context before the plugin's bundle. It keeps the bridge
// references in a closure (nothing reachable from globalThis), captures the intrinsics it relies on
// before plugin code could tamper with them, and returns the functions the host calls:
// [invokeMany (async, on the isolate's thread), start + collect (synchronous, on the host's thread)].
// $0: bridge Reference (token, cap, method, argsJson) -> Promise<json>
// $1: log Reference (token, level, msg, dataJson), fire-and-forget
// $2: JSON of [[capabilityName, [methodNames]], ...]
// $3: done Reference (json of [[token, resultJson], ...]), fire-and-forget
// $4: JSON of the host-side limits (core/plugins/limits.ts)
// The host starts calls in batches (all calls issued in one turn of its event loop enter the isolate
// together) and results come back batched too: each thread hop costs more than a small hook.
//
// Limits (issue 12, finding 7) are enforced here, before anything crosses to the host: a string
// handed across is copied and then parsed on the host's thread, so an oversized log entry, answer or
// argument list must never leave the isolate. Plugin code cannot reach the bridge references, so these
// checks cannot be skipped. Once a call has answered, answers to its pending capability calls are
// dropped here: a detached chain of a finished hook never runs again (the host could not tell when
// it stops, and must never wait for the isolate's lock while it runs).
export const BOOTSTRAP = String.raw`
const bridge = $0, logRef = $1, capSpec = JSON.parse($2), doneRef = $3, L = JSON.parse($4);
// V8 flags of the host process reach every isolate (--expose-gc adds a global gc, non-configurable
// but writable): plugins get none.
if (typeof globalThis.gc === 'function') globalThis.gc = undefined;
const parse = JSON.parse, stringify = JSON.stringify, assign = Object.assign, freeze = Object.freeze;
const ErrorCtor = Error, StringCtor = String, reject = Promise.reject.bind(Promise), PromiseCtor = Promise;
const sliceOf = Function.prototype.call.bind(String.prototype.slice);
const cut = (s, max) => s.length > max ? sliceOf(s, 0, max) + ' … [truncated: ' + s.length + ' characters]' : s;
const never = () => new PromiseCtor(() => {});
const limitError = (message, field) => { const e = new ErrorCtor(message); e.code = 'MCCS_ERR_PLUGIN_LIMIT'; e.field = field; return e; };
// A limit hit is reported to the host once per call and kind (level 'limit': the host names the plugin).
const noteLimit = (acct, kind, message) => {
  if (acct.noted[kind]) return;
  acct.noted[kind] = true;
  try { logRef.applyIgnored(undefined, [acct.token, 'limit', message, '']); } catch {}
};
const call = (acct, cap, method, args) => {
  const what = cap + '.' + method;
  let json;
  try { json = stringify(args); } catch (e) { return reject(e); }
  if (json.length > L.args) {
    const m = what + ': arguments are ' + json.length + ' characters of JSON, more than the ' + L.args + ' allowed';
    noteLimit(acct, 'args', m);
    return reject(limitError(m, what));
  }
  if (acct.inflight >= L.inflight) {
    const m = what + ': more than ' + L.inflight + ' concurrent capability calls in one hook call';
    noteLimit(acct, 'inflight', m);
    return reject(limitError(m, what));
  }
  if (acct.calls >= L.calls) {
    const m = what + ': more than ' + L.calls + ' capability calls in one hook call';
    noteLimit(acct, 'calls', m);
    return reject(limitError(m, what));
  }
  acct.calls++;
  acct.inflight++;
  return bridge.apply(undefined, [acct.token, cap, method, json], { result: { promise: true } }).then((res) => {
    acct.inflight--;
    if (acct.done) return never();
    const r = parse(res);
    if (r.error) { const e = new ErrorCtor(r.error.message); e.code = r.error.code; if (r.error.field) e.field = r.error.field; throw e; }
    return r.value;
  }, (err) => {
    acct.inflight--;
    if (acct.done) return never();
    throw err;
  });
};
const log = (acct, level) => (msg, data) => {
  try {
    if (acct.logs >= L.logEntries) {
      noteLimit(acct, 'logs', 'more than ' + L.logEntries + ' log entries in one hook call: the rest are dropped');
      return;
    }
    acct.logs++;
    const m = cut(StringCtor(msg), L.logMessage);
    let d = '';
    if (data !== undefined) {
      try { d = stringify(data); } catch { d = '{"unserialisable":true}'; }
      if (d === undefined) d = '';
      if (d.length > L.logData) d = '{"truncated":true,"characters":' + d.length + '}';
    }
    logRef.applyIgnored(undefined, [acct.token, level, m, d]);
  } catch {}
};
function makeCtx(token, base, acct) {
  const ctx = assign({}, base);
  for (const [name, methods] of capSpec) {
    const parts = name.split('.');
    let o = ctx;
    for (let i = 0; i < parts.length - 1; i++) o = o[parts[i]] || (o[parts[i]] = {});
    const obj = {};
    for (const m of methods) obj[m] = (...args) => call(acct, name, m, args);
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
      set: (k, v) => call(acct, 'state', 'set', [k, v]).then(() => { local[k] = copy(v); }),
      delete: (k) => call(acct, 'state', 'delete', [k]).then(() => { delete local[k]; }),
    });
  }
  ctx.log = freeze({ debug: log(acct, 'debug'), info: log(acct, 'info'), warn: log(acct, 'warn'), error: log(acct, 'error') });
  ctx.sleep = (ms) => call(acct, 'sys', 'sleep', [ms]);
  ctx.now = () => Date.now();
  return ctx;
}
async function invoke(hook, token, baseJson, argsJson) {
  const mod = globalThis.__mccsPlugin;
  const hooks = mod && (mod.default || mod);
  if (!hooks || typeof hooks[hook] !== 'function') return '{"notSupported":true}';
  const acct = { token, done: false, inflight: 0, calls: 0, logs: 0, noted: {} };
  try {
    const ctx = makeCtx(token, parse(baseJson), acct);
    const r = await hooks[hook](ctx, ...parse(argsJson));
    acct.done = true;
    const out = stringify({ value: r === undefined ? null : r });
    if (out !== undefined && out.length > L.answer) {
      return stringify({ limit: { field: '(return value)', message: 'the answer is ' + out.length + ' characters of JSON, more than the ' + L.answer + ' allowed' } });
    }
    return out;
  } catch (e) {
    acct.done = true;
    let message, code;
    try { message = cut(StringCtor(e && e.message !== undefined ? e.message : e), L.error); } catch { message = 'unprintable error'; }
    try { code = e && typeof e.code === 'string' && e.code.length <= 64 ? e.code : undefined; } catch {}
    return stringify({ thrown: { message, code } });
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
  // The host's probe that every task queued before it (answers to capability calls, and the
  // microtasks they started) has run: see quiet() in sandbox.ts.
  if (json === '__ping__') return '';
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
