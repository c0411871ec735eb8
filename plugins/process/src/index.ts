// process: one long-running program per resource, started and supervised by the agent's `proc`
// capability (own session and process group, clean environment, optional user/group, output.log,
// exit known at once, kept across agent restarts). Monitor asks the supervisor's record, then runs the
// optional health command through `exec` (permission exec:attr:healthCommand: only the binary the
// operator put in healthCommand[0]).
import {
  definePlugin,
  ok,
  notRunning,
  failed,
  invalid,
  diag,
  type Diagnostic,
  type HookAnswer,
  type HookContext,
  type ProcSpec,
  type ProcStatus,
} from '@mccs/sdk'

interface Attrs {
  argv: string[]
  env?: Record<string, string>
  cwd?: string
  user?: string
  group?: string
  stopGraceS?: number
  healthCommand?: string[]
  healthTimeoutS?: number
  [k: string]: unknown
}

/** The process's name inside the resource (a resource of this type manages one process). */
const NAME = 'main'
const ENV_KEY = /^[A-Za-z_][A-Za-z0-9_]*$/
const ACCOUNT = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}\$?$/
const DEFAULT_GRACE_S = 10
const DEFAULT_HEALTH_TIMEOUT_S = 10
/** After a start, the process must still run this long for online to say ok. */
const SETTLE_MS = 200

const isStrArray = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string')

/** Field-level checks of one node's attributes; `base` is the JSON pointer prefix. */
function check(a: Attrs, base: string): Diagnostic[] {
  const d: Diagnostic[] = []
  if (!isStrArray(a.argv) || a.argv.length === 0) d.push(diag(`${base}/argv`, 'must be a non-empty list of strings'))
  else {
    if (!a.argv[0]!.startsWith('/'))
      d.push(diag(`${base}/argv/0`, 'must be an absolute path', 'the program is run without a shell and without PATH lookup'))
    a.argv.forEach((x, i) => {
      if (x.includes('\0')) d.push(diag(`${base}/argv/${i}`, 'contains a NUL character'))
    })
  }
  if (a.env !== undefined) {
    if (typeof a.env !== 'object' || a.env === null || Array.isArray(a.env)) d.push(diag(`${base}/env`, 'must be an object of strings'))
    else {
      for (const [k, v] of Object.entries(a.env)) {
        if (!ENV_KEY.test(k))
          d.push(diag(`${base}/env/${k}`, 'is not a valid variable name', 'letters, digits and _; not starting with a digit'))
        else if (typeof v !== 'string' || v.includes('\0')) d.push(diag(`${base}/env/${k}`, 'must be a string without NUL'))
      }
    }
  }
  if (a.cwd !== undefined && (typeof a.cwd !== 'string' || !a.cwd.startsWith('/'))) d.push(diag(`${base}/cwd`, 'must be an absolute path'))
  for (const f of ['user', 'group'] as const) {
    const v = a[f]
    if (v !== undefined && (typeof v !== 'string' || !ACCOUNT.test(v))) d.push(diag(`${base}/${f}`, `must be a ${f} name or a numeric id`))
  }
  if (a.stopGraceS !== undefined && (typeof a.stopGraceS !== 'number' || !(a.stopGraceS >= 0) || a.stopGraceS > 3600)) {
    d.push(diag(`${base}/stopGraceS`, 'must be a number of seconds between 0 and 3600'))
  }
  if (a.healthCommand !== undefined) {
    if (!isStrArray(a.healthCommand) || a.healthCommand.length === 0)
      d.push(diag(`${base}/healthCommand`, 'must be a non-empty list of strings'))
    else if (!a.healthCommand[0]!.startsWith('/')) d.push(diag(`${base}/healthCommand/0`, 'must be an absolute path'))
  }
  if (a.healthTimeoutS !== undefined && (typeof a.healthTimeoutS !== 'number' || !(a.healthTimeoutS > 0) || a.healthTimeoutS > 3600)) {
    d.push(diag(`${base}/healthTimeoutS`, 'must be a number of seconds between 1 and 3600'))
  }
  return d
}

function spec(a: Attrs): ProcSpec {
  return {
    name: NAME,
    argv: a.argv,
    ...(a.env !== undefined ? { env: a.env } : {}),
    ...(a.cwd ? { cwd: a.cwd } : {}),
    ...(a.user ? { user: a.user } : {}),
    ...(a.group ? { group: a.group } : {}),
  }
}

function describeExit(s: ProcStatus): string {
  if (s.exitSignal) return `killed by ${s.exitSignal}`
  if (s.exitCode !== null) return `exited with code ${s.exitCode}`
  return 'not running'
}

const statusData = (s: ProcStatus): Record<string, unknown> => ({
  pid: s.pid,
  startedAt: s.startedAt,
  logFile: s.logFile,
  exitCode: s.exitCode,
  exitSignal: s.exitSignal,
  exitedAt: s.exitedAt,
})

/** An error thrown by a capability call, as the bridge delivers it (code, field). */
interface CapError {
  message?: string
  code?: string
  field?: string
}

export default definePlugin<Attrs>({
  validate(_ctx, input) {
    // A problem found on every node is reported at the attribute's own path (/argv/0); one found on
    // some nodes only at /nodes/<node>/... (a per-node value).
    const nodes = Object.keys(input.perNode)
    const seen = new Map<string, { d: Diagnostic; nodes: string[] }>()
    for (const node of nodes) {
      for (const d of check(input.perNode[node]!, '')) {
        const k = `${d.path}\u0000${d.summary}`
        const e = seen.get(k) ?? seen.set(k, { d, nodes: [] }).get(k)!
        e.nodes.push(node)
      }
    }
    const diags: Diagnostic[] = []
    for (const { d, nodes: on } of seen.values()) {
      if (on.length === nodes.length) diags.push(d)
      else for (const n of on) diags.push({ ...d, path: `/nodes/${n}${d.path}` })
    }
    return diags.length ? invalid(diags) : ok()
  },

  async online(ctx): Promise<HookAnswer> {
    const bad = check(ctx.attrs, '')
    if (bad.length) return invalid(bad)
    let s: ProcStatus
    try {
      s = await ctx.proc.start(spec(ctx.attrs))
    } catch (e) {
      const err = e as CapError
      if (err.code === 'MCCS_ERR_CAPABILITY_ARGS') {
        return invalid([diag(err.field && err.field.startsWith('/') ? err.field : '/', err.message ?? 'invalid process specification')])
      }
      // A user (or group) this type's plugin.json does not declare in procUsers: no retry can help.
      if (err.code === 'MCCS_ERR_PERMISSION_DENIED') {
        return invalid([diag('/user', err.message ?? 'this user is not allowed')])
      }
      return failed(`start failed: ${err.message ?? String(e)}`)
    }
    if (s.running) {
      // A program that dies at once (bad configuration) must not count as online.
      await ctx.sleep(Math.max(0, Math.min(SETTLE_MS, ctx.deadline - Date.now() - 100)))
      s = await ctx.proc.status(NAME)
    }
    if (!s.running) {
      return failed(`${ctx.attrs.argv[0]} ${describeExit(s)} right after start (see ${s.logFile ?? 'output.log'})`, { data: statusData(s) })
    }
    ctx.log.info(`started pid ${s.pid}`, { pid: s.pid, logFile: s.logFile })
    return ok(`running, pid ${s.pid}`, { data: statusData(s) })
  },

  async offline(ctx): Promise<HookAnswer> {
    const graceS = typeof ctx.attrs.stopGraceS === 'number' ? ctx.attrs.stopGraceS : DEFAULT_GRACE_S
    const s = await ctx.proc.stop(NAME, { graceMs: graceS * 1000 })
    return s.running ? failed(`pid ${s.pid} still runs after stop`) : ok(describeExit(s), { data: statusData(s) })
  },

  async clean(ctx): Promise<HookAnswer> {
    const s = await ctx.proc.stop(NAME, { graceMs: 0 })
    return s.running ? failed(`pid ${s.pid} still runs after SIGKILL`) : ok()
  },

  async monitor(ctx): Promise<HookAnswer> {
    const s = await ctx.proc.status(NAME)
    if (!s.running) return notRunning(describeExit(s), { data: statusData(s) })
    const hc = ctx.attrs.healthCommand
    if (!isStrArray(hc) || hc.length === 0) return ok(`running, pid ${s.pid}`, { data: statusData(s) })
    const timeoutS = typeof ctx.attrs.healthTimeoutS === 'number' ? ctx.attrs.healthTimeoutS : DEFAULT_HEALTH_TIMEOUT_S
    const r = await ctx.exec.run({
      file: hc[0]!,
      args: hc.slice(1),
      env: { MCCS_RESOURCE: ctx.resource, MCCS_NODE: ctx.node, MCCS_PID: String(s.pid) },
      timeoutMs: Math.max(1, Math.min(timeoutS * 1000, ctx.deadline - Date.now() - 100)),
      maxOutputBytes: 4096,
    })
    if (r.code === 0) return ok(`running, pid ${s.pid}, healthy`, { data: statusData(s) })
    const why = r.timedOut ? `timed out after ${timeoutS} s` : r.signal ? `killed by ${r.signal}` : `exit code ${r.code}`
    const out = (r.stderr || r.stdout).trim().split('\n').slice(-1)[0]
    return failed(`health command ${why}${out ? `: ${out.slice(0, 200)}` : ''}`, {
      data: { ...statusData(s), health: { code: r.code, signal: r.signal, timedOut: r.timedOut } },
    })
  },
})
