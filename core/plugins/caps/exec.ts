// Capability `exec`: run an allow-listed absolute binary with an argv array — never a shell —
// with a timeout (bounded by the hook's deadline), bounded output, a few at a time (exec-slots.ts),
// one spawn per turn of the event loop (spawn-gate.ts), and the whole process group killed when the
// hook is cancelled.
import { spawn } from 'node:child_process'
import { realpathSync } from 'node:fs'
import path from 'node:path'
import type { ExecRequest, ExecResult } from '../../../sdk/src/types.js'
import { MccsError } from '../../errors.js'
import type { CallInfo, CapabilityProvider } from '../capabilities.js'
import { execSlots } from './exec-slots.js'
import { spawnTurn, spawned } from './spawn-gate.js'
import { isOcfAgent, isMetaDataCall, ocfHostEnv } from './ocf-agents.js'

const DEFAULT_OUTPUT = 64 * 1024
const MAX_OUTPUT = 1024 * 1024
const KILL_GRACE_MS = 2000
/** After the command exits, how long its output may take to drain before the pipes are let go. */
const DRAIN_MS = 500
export const SAFE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
/** The environment every exec starts from; the host sets it, a plugin cannot change or remove it. */
export const BASE_ENV: Readonly<Record<string, string>> = Object.freeze({ PATH: SAFE_PATH, LANG: 'C.UTF-8' })

// The variables a plugin may add. An allow-list, not a deny-list: the loader (LD_*, GCONV_PATH,
// LOCPATH), shells (BASH_ENV, ENV, IFS, PS4), interpreters (PYTHON*, PERL5*, NODE_OPTIONS) and countless
// tools (HOME, XDG_*, OPENSSL_CONF, GIT_*, PAGER …) read variables that make a trusted binary run code of
// the caller's choosing, and no list of them is ever complete. The names here are read only by programs
// written for MCCS (the plugin's own MCCS_* names) or by OCF agents as their declared parameters.
const ENV_ALLOWED = /^(MCCS_[A-Za-z0-9_]+|OCF_RESKEY_[A-Za-z0-9_]+|OCF_RESOURCE_(INSTANCE|TYPE|PROVIDER))$/
// … minus the names the mccs command reads itself (its settings: an allowed `mccs` binary or a script
// calling it must not be pointed at the plugin's files).
const ENV_MCCS_OWN =
  /^MCCS_(HOME|BOOTSTRAP|CONFIG[A-Z0-9_]*|NODE_NAME|CONTROL_SOCKET|[A-Z0-9_]*_DIRS?|[A-Z0-9_]*_PORT|CONSOLE_[A-Z0-9_]*|DEMO_[A-Z0-9_]*|DEBUG_[A-Z0-9_]*)$/
const MAX_ENV_VARS = 256
const MAX_ENV_VALUE = 32 * 1024

/** Why a plugin may not set this variable, or null when it may. */
export function envNameRefusal(name: string): string | null {
  if (!ENV_ALLOWED.test(name)) {
    return (
      'may not be set by a plugin: only MCCS_*, OCF_RESKEY_* and OCF_RESOURCE_{INSTANCE,TYPE,PROVIDER} are passed ' +
      '(the host sets PATH and LANG; loader, shell and interpreter variables such as LD_PRELOAD are never passed)'
    )
  }
  if (ENV_MCCS_OWN.test(name)) return "is one of the mccs command's own settings and may not be set by a plugin"
  return null
}

/** Hooks whose attributes come from committed configuration (main.json, hb.json's fence devices). */
const ATTR_HOOKS: ReadonlySet<string> = new Set(['online', 'offline', 'monitor', 'clean', 'fence', 'status'])

/** The permission a request needs, or null when one of the declared permissions covers it. */
export function execAuthorize(args: unknown[], call: CallInfo): string | null {
  const file = (args[0] as ExecRequest | undefined)?.file
  if (typeof file !== 'string' || !path.isAbsolute(file)) return null // run() rejects it with a precise message
  const p = call.permissions
  if (p.has(`exec:${file}`)) return null
  if (p.has('exec:scripts/*') && insideDir(file, call.paths.scripts)) return null
  if (p.has('exec:ocf/*') && isOcfAgent(file) && (ATTR_HOOKS.has(call.hook) || isMetaDataCall(args[0] as ExecRequest))) return null
  // exec:attr trusts the operator's committed configuration; discover and validate get attributes
  // from their caller (the console's wizard, before anything is committed), so it allows nothing there.
  if (!ATTR_HOOKS.has(call.hook)) return `exec:${file}`
  for (const field of p.execAttrFields()) {
    const v = call.attrs[field]
    const configured = Array.isArray(v) ? v[0] : v
    if (typeof configured === 'string' && configured === file) return null
  }
  return `exec:${file}`
}

function insideDir(file: string, dir: string): boolean {
  let real: string, realDir: string
  try {
    real = realpathSync(file)
    realDir = realpathSync(dir)
  } catch {
    return false
  }
  return real.startsWith(realDir + path.sep)
}

export function checkExecRequest(v: unknown): Required<Pick<ExecRequest, 'file' | 'args'>> & ExecRequest {
  const bad = (field: string, reason: string) => new MccsError('MCCS_ERR_CAPABILITY_ARGS', reason, { field: `exec.run: ${field}` })
  if (typeof v !== 'object' || v === null) throw bad('request', 'must be an object { file, args }')
  const r = v as Record<string, unknown>
  if (typeof r.file !== 'string' || !path.isAbsolute(r.file)) throw bad('file', 'must be an absolute path')
  const args = r.args ?? []
  if (!Array.isArray(args) || args.some((a) => typeof a !== 'string' || a.includes('\0'))) throw bad('args', 'must be an array of strings')
  if (args.length > 4096) throw bad('args', 'at most 4096 arguments')
  if (r.env !== undefined) {
    if (typeof r.env !== 'object' || r.env === null || Array.isArray(r.env)) throw bad('env', 'must be an object of strings')
    const entries = Object.entries(r.env)
    if (entries.length > MAX_ENV_VARS) throw bad('env', `at most ${MAX_ENV_VARS} variables`)
    for (const [k, val] of entries) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) throw bad(`env.${k}`, 'is not a valid variable name')
      const refused = envNameRefusal(k)
      if (refused) throw bad(`env.${k}`, refused)
      if (typeof val !== 'string' || val.includes('\0')) throw bad(`env.${k}`, 'must be a string without NUL bytes')
      if (val.length > MAX_ENV_VALUE) throw bad(`env.${k}`, `must be at most ${MAX_ENV_VALUE} characters`)
    }
  }
  if (r.cwd !== undefined && (typeof r.cwd !== 'string' || !path.isAbsolute(r.cwd))) throw bad('cwd', 'must be an absolute path')
  if (r.timeoutMs !== undefined && (typeof r.timeoutMs !== 'number' || !(r.timeoutMs > 0)))
    throw bad('timeoutMs', 'must be a positive number')
  if (r.maxOutputBytes !== undefined && (typeof r.maxOutputBytes !== 'number' || r.maxOutputBytes < 0 || r.maxOutputBytes > MAX_OUTPUT)) {
    throw bad('maxOutputBytes', `must be 0..${MAX_OUTPUT}`)
  }
  if (r.input !== undefined && typeof r.input !== 'string') throw bad('input', 'must be a string')
  return { ...(r as unknown as ExecRequest), file: r.file, args: args as string[] }
}

/** Runs a process to completion. Used by the exec capability and by host code (script type probes). */
export async function runProcess(req: ExecRequest & { args: string[] }, signal: AbortSignal, deadline: number): Promise<ExecResult> {
  const started = performance.now()
  await spawnTurn()
  if (signal.aborted || Date.now() >= deadline) {
    // The call ended while this waited for its turn to spawn: nothing was started.
    return {
      code: null,
      signal: null,
      timedOut: !signal.aborted,
      truncated: false,
      stdout: '',
      stderr: '',
      durationMs: performance.now() - started,
    }
  }
  const cap = req.maxOutputBytes ?? DEFAULT_OUTPUT
  const timeoutMs = Math.max(1, Math.min(req.timeoutMs ?? Infinity, deadline - Date.now()))
  return new Promise((resolve) => {
    const out: Buffer[] = [],
      err: Buffer[] = []
    let outLen = 0,
      errLen = 0,
      truncated = false,
      timedOut = false,
      settled = false
    const forkStart = performance.now()
    const child = spawn(req.file, req.args, {
      shell: false,
      detached: true,
      cwd: req.cwd ?? '/',
      // The host's variables win: callers (host code too) can add names, never replace these.
      env: { ...(req.env ?? {}), ...BASE_ENV },
      stdio: [req.input !== undefined ? 'pipe' : 'ignore', 'pipe', 'pipe'],
    })
    spawned(performance.now() - forkStart)
    const take = (buf: Buffer, into: Buffer[], len: number): number => {
      const room = cap - len
      if (room <= 0) {
        truncated = true
        return len
      }
      if (buf.length > room) truncated = true
      into.push(buf.subarray(0, room))
      return len + Math.min(room, buf.length)
    }
    child.stdout!.on('data', (b: Buffer) => {
      outLen = take(b, out, outLen)
    })
    child.stderr!.on('data', (b: Buffer) => {
      errLen = take(b, err, errLen)
    })
    if (req.input !== undefined) child.stdin!.end(req.input)
    let killTimer: NodeJS.Timeout | undefined
    let drainTimer: NodeJS.Timeout | undefined
    const killGroup = (sig: NodeJS.Signals) => {
      try {
        if (child.pid) process.kill(-child.pid, sig)
      } catch {
        /* gone */
      }
    }
    const stop = () => {
      killGroup('SIGTERM')
      killTimer = setTimeout(() => killGroup('SIGKILL'), KILL_GRACE_MS)
      killTimer.unref()
    }
    const timer = setTimeout(() => {
      timedOut = true
      stop()
    }, timeoutMs)
    const onAbort = () => stop()
    signal.addEventListener('abort', onAbort, { once: true })
    const finish = (code: number | null, sig: string | null, spawnError?: Error) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      signal.removeEventListener('abort', onAbort)
      // The group may still hold children of the command: don't leave them behind.
      if (code === null || timedOut || signal.aborted) killGroup('SIGKILL')
      if (killTimer) clearTimeout(killTimer)
      if (drainTimer) clearTimeout(drainTimer)
      resolve({
        code,
        signal: sig,
        timedOut,
        truncated,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: spawnError ? `cannot run ${req.file}: ${spawnError.message}` : Buffer.concat(err).toString('utf8'),
        durationMs: performance.now() - started,
      })
    }
    child.on('error', (e) => finish(127, null, e))
    // The command's exit is its answer. A daemon it started (an OCF agent's start, a start script's `&`)
    // may keep its stdout and stderr open for its whole life: after a short drain stop reading, rather
    // than wait for the pipes to close until the deadline and then kill the daemon with the group.
    child.on('exit', (code, sig) => {
      if (settled) return
      drainTimer = setTimeout(() => {
        child.stdout?.destroy()
        child.stderr?.destroy()
        finish(code, sig)
      }, DRAIN_MS)
    })
    child.on('close', (code, sig) => finish(code, sig))
  })
}

export const execProvider: CapabilityProvider = {
  name: 'exec',
  methods: {
    run: {
      authorize: execAuthorize,
      run: async ([req], call) => {
        const r = checkExecRequest(req)
        if (call.signal.aborted) throw new MccsError('MCCS_ERR_CANCELLED', 'hook cancelled')
        const release = await execSlots.acquire(call.plugin, call.resource, call.signal)
        let res: ExecResult
        try {
          // Only a type holding exec:ocf/* can run an agent: the others' execs take no path lookup for it.
          const env = call.permissions.has('exec:ocf/*') ? { ...(r.env ?? {}), ...ocfHostEnv(r.file) } : r.env
          res = await runProcess({ ...r, ...(env ? { env } : {}) }, call.signal, call.deadline)
        } finally {
          release()
        }
        call.log.debug('exec', { file: r.file, args: r.args, code: res.code, signal: res.signal, ms: Math.round(res.durationMs) })
        return res
      },
    },
  },
}
