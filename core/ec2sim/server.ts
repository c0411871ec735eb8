// The EC2-compatible endpoint: EC2's Query protocol over HTTP (POST form bodies or GET query strings),
// SigV4-checked against the configured keys, answering in EC2's XML with EC2's error codes. State lives in
// memory and in one JSON file, saved after every call (call counts included) before the answer goes out,
// so a test reading the file after a response sees that call's effect.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { MccsError } from '../errors.js'
import { ACTIONS } from './actions/index.js'
import { Ec2Error } from './errors.js'
import { Params } from './query.js'
import { loadSeedFile, demoSeed, seedToState, validateSeed } from './seed.js'
import { verifySigV4 } from './sigv4.js'
import { advance, loadState, nextTransition, StateWriter } from './state.js'
import type { Ec2State, SeedSpec, SimKey } from './types.js'
import { errorXml, responseXml } from './xml.js'

export type { Ec2State, SeedSpec, SimKey } from './types.js'
export { demoSeed, seedForNodes, loadSeedFile, validateSeed } from './seed.js'

export interface Ec2SimOptions {
  host?: string
  /** 0 = any free port. */
  port?: number
  /** JSON state, written atomically after every call; loaded if it exists. */
  stateFile: string
  /** Used only when stateFile does not exist yet (default 'demo'); a string other than 'demo' is a seed JSON file. */
  seed?: 'demo' | SeedSpec | string
  latencyMs?: number
  /** 0..100: that share of calls answered 503 RequestLimitExceeded (at random). */
  throttlePercent?: number
  /** Replaces the state's keys. allow: EC2 action names ('*' or absent = all). */
  keys?: SimKey[]
  /** How long an instance stays stopping (or pending) before stopped (running); default 500 ms. */
  transitionMs?: number
}

export interface Ec2Sim {
  url: string
  close(): Promise<void>
  calls(): Record<string, number>
  resetCalls(): void
  setFaults(f: { latencyMs?: number; throttlePercent?: number }): void
  state(): Ec2State
}

const MAX_BODY = 1 << 20
const MUTATING_DRYRUN = 'Request would have succeeded, but DryRun flag is set.'

function checkInt(v: unknown, field: string, min: number, max: number): number | undefined {
  if (v === undefined) return undefined
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new MccsError('MCCS_ERR_INVALID', `must be an integer in ${min}..${max}`, { field })
  }
  return v
}

function checkFaults(f: { latencyMs?: number; throttlePercent?: number }): void {
  checkInt(f.latencyMs, 'latencyMs', 0, 600_000)
  checkInt(f.throttlePercent, 'throttlePercent', 0, 100)
}

const allowed = (key: SimKey, action: string): boolean =>
  !key.allow || key.allow.some((a) => a === '*' || a === action || a === `ec2:${action}` || a === 'ec2:*')

async function readBody(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const c of req) {
    size += (c as Buffer).length
    if (size > MAX_BODY) throw new Ec2Error('RequestEntityTooLarge', `The request body exceeds ${MAX_BODY} bytes.`, 413)
    chunks.push(c as Buffer)
  }
  return Buffer.concat(chunks)
}

export async function startEc2Sim(o: Ec2SimOptions): Promise<Ec2Sim> {
  if (typeof o.stateFile !== 'string' || !o.stateFile)
    throw new MccsError('MCCS_ERR_INVALID', 'a state file path is needed', { field: 'stateFile' })
  const port = checkInt(o.port ?? 0, 'port', 0, 65535)!
  const transitionMs = checkInt(o.transitionMs ?? 500, 'transitionMs', 0, 3_600_000)!
  checkFaults(o)
  let latencyMs = o.latencyMs ?? 0
  let throttlePercent = o.throttlePercent ?? 0
  const host = o.host ?? '127.0.0.1'
  if (o.keys) validateSeed({ ...demoSeed(), keys: o.keys }, 'keys option')

  let state = await loadState(o.stateFile)
  if (!state) {
    const seed: SeedSpec =
      o.seed === undefined || o.seed === 'demo' ? demoSeed() : typeof o.seed === 'string' ? await loadSeedFile(o.seed) : o.seed
    state = seedToState(seed)
  }
  const st: Ec2State = state
  const keys = (): SimKey[] => o.keys ?? st.keys
  const writer = new StateWriter(o.stateFile, () => JSON.stringify(st, null, 1))
  await writer.save()

  let timer: NodeJS.Timeout | undefined
  const schedule = () => {
    if (timer) clearTimeout(timer)
    const at = nextTransition(st)
    if (at === undefined) return
    timer = setTimeout(
      () => {
        timer = undefined
        if (advance(st, Date.now())) void writer.save().catch(() => undefined)
        schedule()
      },
      Math.max(0, at - Date.now()) + 5,
    )
    timer.unref()
  }
  schedule()

  async function answer(req: IncomingMessage, requestId: string): Promise<{ status: number; body: string }> {
    const url = new URL(req.url ?? '/', 'http://endpoint')
    if (req.method !== 'GET' && req.method !== 'POST')
      throw new Ec2Error('InvalidRequest', `HTTP method ${req.method} is not supported; use POST or GET.`)
    const body = await readBody(req)
    // Parameters: the form body of a POST plus the query string (without presigning parameters).
    const text = [...url.searchParams]
      .filter(([k]) => !k.startsWith('X-Amz-'))
      .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    if (req.method === 'POST' && body.length) {
      const ct = String(req.headers['content-type'] ?? '')
      if (!/^application\/x-www-form-urlencoded/i.test(ct))
        throw new Ec2Error(
          'InvalidRequest',
          `Content-Type ${ct || '(none)'} is not supported; EC2 takes application/x-www-form-urlencoded.`,
        )
      text.unshift(body.toString('utf8'))
    }
    const p = Params.parse(text.join('&'))
    const action = p.str('Action')
    if (action && /^[A-Za-z0-9]{1,64}$/.test(action)) st.calls[action] = (st.calls[action] ?? 0) + 1
    if (latencyMs > 0) await sleep(latencyMs)

    const headers: Record<string, string> = {}
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(',') : v
    const { key } = await verifySigV4(
      { method: req.method, host: headers.host ?? '', path: url.pathname, query: url.searchParams, headers, body },
      keys(),
    )
    if (throttlePercent > 0 && Math.random() * 100 < throttlePercent)
      throw new Ec2Error('RequestLimitExceeded', 'Request limit exceeded.', 503)
    if (!action) throw new Ec2Error('MissingAction', 'The request must contain the parameter Action.')
    const def = ACTIONS[action]
    if (!def) throw new Ec2Error('InvalidAction', `The action ${action} is not valid for this web service.`)
    if (!allowed(key, action)) {
      throw new Ec2Error(
        'UnauthorizedOperation',
        `You are not authorized to perform this operation. User: arn:aws:iam::${st.accountId}:user/${key.accessKeyId} is not authorized to perform: ec2:${action} because no identity-based policy allows the ec2:${action} action`,
        403,
      )
    }
    if (def.dryRun === false && p.has('DryRun'))
      throw new Ec2Error('UnknownParameter', `The parameter DryRun is not recognized by ${action}.`)
    if (p.bool('DryRun')) throw new Ec2Error('DryRunOperation', MUTATING_DRYRUN, 412)
    const now = Date.now()
    advance(st, now)
    // A failed call changes nothing: run on the live state, put the copy back on error.
    const before = def.mutating ? structuredClone(st) : undefined
    try {
      const out = def.run({ state: st, p, now, transitionMs })
      return { status: 200, body: responseXml(action, requestId, out) }
    } catch (e) {
      if (before) Object.assign(st, before)
      throw e
    } finally {
      schedule()
    }
  }

  const server = createServer((req, res: ServerResponse) => {
    const requestId = randomUUID()
    void answer(req, requestId)
      .catch((e: unknown) => {
        if (e instanceof Ec2Error) return { status: e.status, body: errorXml(e.code, e.message, requestId) }
        return {
          status: 500,
          body: errorXml('InternalError', `An internal error has occurred: ${(e as Error)?.message ?? String(e)}`, requestId),
        }
      })
      .then(async (r) => {
        await writer.save().catch((e: unknown) => {
          r = { status: 500, body: errorXml('InternalError', `state could not be saved: ${(e as Error).message}`, requestId) }
        })
        res.writeHead(r.status, {
          'content-type': 'text/xml;charset=UTF-8',
          'x-amzn-requestid': requestId,
          'content-length': Buffer.byteLength(r.body),
        })
        res.end(r.body)
      })
  })
  server.keepAliveTimeout = 5_000
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) =>
      reject(new MccsError('MCCS_ERR_INVALID', `cannot listen on ${host}:${port}: ${e.message}`, { field: 'listen', cause: e })),
    )
    server.listen(port, host, () => resolve())
  })
  const addr = server.address()
  const boundPort = typeof addr === 'object' && addr ? addr.port : port
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${boundPort}`,
    async close() {
      if (timer) clearTimeout(timer)
      await new Promise<void>((resolve) => {
        server.close(() => resolve())
        server.closeAllConnections()
      })
      if (advance(st, Date.now())) await writer.save()
      await writer.save()
    },
    calls: () => ({ ...st.calls }),
    resetCalls() {
      st.calls = {}
      void writer.save().catch(() => undefined)
    },
    setFaults(f) {
      checkFaults(f)
      if (f.latencyMs !== undefined) latencyMs = f.latencyMs
      if (f.throttlePercent !== undefined) throttlePercent = f.throttlePercent
    },
    state: () => {
      advance(st, Date.now())
      return structuredClone(st)
    },
  }
}
