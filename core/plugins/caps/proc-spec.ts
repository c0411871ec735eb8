// A process spec checked at the edge and resolved for launch: argv[0] found and executable, the
// environment within the kernel's exec limits, the cwd a folder, user and group looked up (the
// identity the plugin's procUsers are then checked against). Names, resources and stop options are
// validated here too: every refusal is MCCS_ERR_CAPABILITY_ARGS naming the field.
import { execFile } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import type { ProcSpec } from '../../../sdk/src/types.js'
import { MccsError } from '../../errors.js'
import type { ProcTarget } from './proc-users.js'

export const NAME_RE = /^[A-Za-z0-9_.-]{1,64}$/
export const RESOURCE_RE = /^[A-Za-z0-9_.:@-]{1,128}$/
const ENV_KEY_RE = /^[A-Za-z_][A-Za-z0-9_]*$/
const USER_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}\$?$/
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
export const SUP_ENV = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', LC_ALL: 'C' }
const MAX_ARGS = 4096
const MAX_ARG_BYTES = 128 * 1024
/** The kernel refuses one "NAME=value" longer than this at exec (MAX_ARG_STRLEN). */
const MAX_ENV_STRING = 128 * 1024 - 1
/** The whole environment: argv and environment share the exec's limit (a quarter of the stack limit). */
const MAX_ENV_BYTES = 256 * 1024
const MAX_GRACE_MS = 3_600_000
const STOP_SIGNALS = new Set(['SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT', 'SIGKILL', 'SIGUSR1', 'SIGUSR2', 'SIGABRT'])

const argsError = (field: string, reason: string, subject?: string): MccsError =>
  new MccsError('MCCS_ERR_CAPABILITY_ARGS', reason, { field, ...(subject ? { subject } : {}) })

/** A spec resolved for the supervisor: what runs, as whom, where, with which environment. */
export interface Launch {
  argv: string[]
  env: Record<string, string>
  cwd: string
  uid: number | null
  gid: number | null
  user: string | null
  argv0Resolved: boolean
  /** The identity the service gets (the agent's own where the spec names none). */
  target: ProcTarget
}

/** Validates a spec at the edge; throws MCCS_ERR_CAPABILITY_ARGS naming the field. `setpriv`: the binary
 *  that runs a service as another user or group, null when util-linux's setpriv is missing. */
export async function validateSpec(spec: ProcSpec, setpriv: string | null): Promise<Launch> {
  if (spec === null || typeof spec !== 'object' || Array.isArray(spec)) throw argsError('/', 'the spec must be an object')
  const known = new Set(['name', 'argv', 'env', 'cwd', 'user', 'group'])
  for (const k of Object.keys(spec)) if (!known.has(k)) throw argsError(`/${k}`, 'unknown field')
  checkName(spec.name)
  const { argv } = spec
  if (!Array.isArray(argv) || argv.length === 0) throw argsError('/argv', 'must be a non-empty array of strings')
  if (argv.length > MAX_ARGS) throw argsError('/argv', `more than ${MAX_ARGS} arguments`)
  let bytes = 0
  argv.forEach((a, i) => {
    if (typeof a !== 'string') throw argsError(`/argv/${i}`, 'must be a string')
    if (a.includes('\0')) throw argsError(`/argv/${i}`, 'contains a NUL character')
    bytes += Buffer.byteLength(a)
  })
  if (bytes > MAX_ARG_BYTES) throw argsError('/argv', `more than ${MAX_ARG_BYTES} bytes`)

  const env: Record<string, string> = {}
  let envBytes = 0
  if (spec.env !== undefined) {
    if (spec.env === null || typeof spec.env !== 'object' || Array.isArray(spec.env))
      throw argsError('/env', 'must be an object of strings')
    for (const [k, v] of Object.entries(spec.env)) {
      if (!ENV_KEY_RE.test(k)) throw argsError(`/env/${k}`, 'name must match [A-Za-z_][A-Za-z0-9_]*')
      if (typeof v !== 'string') throw argsError(`/env/${k}`, 'must be a string')
      if (v.includes('\0')) throw argsError(`/env/${k}`, 'contains a NUL character')
      const n = Buffer.byteLength(k) + 1 + Buffer.byteLength(v)
      if (n > MAX_ENV_STRING) throw argsError(`/env/${k}`, `more than ${MAX_ENV_STRING} bytes`)
      envBytes += n + 1
      env[k] = v
    }
    if (envBytes > MAX_ENV_BYTES) throw argsError('/env', `more than ${MAX_ENV_BYTES} bytes in all`)
  }

  let argv0 = argv[0] as string
  let argv0Resolved = false
  if (!argv0.startsWith('/')) {
    if (argv0.includes('/') || argv0 === '') throw argsError('/argv/0', 'must be an absolute path or a bare command name found in PATH')
    const found = findBinary(argv0, env.PATH ?? DEFAULT_PATH)
    if (!found) throw argsError('/argv/0', `command "${argv0}" not found in PATH`)
    argv0 = found
    argv0Resolved = true
  }
  try {
    const st = fs.statSync(argv0)
    if (!st.isFile()) throw argsError('/argv/0', `${argv0} is not a regular file`)
    fs.accessSync(argv0, fs.constants.X_OK)
  } catch (e) {
    if (e instanceof MccsError) throw e
    throw argsError('/argv/0', `${argv0} does not exist or is not executable`)
  }

  let cwd = '/'
  if (spec.cwd !== undefined) {
    if (typeof spec.cwd !== 'string' || !path.isAbsolute(spec.cwd) || spec.cwd.includes('\0'))
      throw argsError('/cwd', 'must be an absolute path')
    let isDir = false
    try {
      isDir = fs.statSync(spec.cwd).isDirectory()
    } catch {
      /* below */
    }
    if (!isDir) throw argsError('/cwd', `${spec.cwd} is not an existing directory`)
    cwd = spec.cwd
  }

  let uid: number | null = null
  let gid: number | null = null
  let user: string | null = null
  let home: string | null = null
  const me = os.userInfo()
  const myUid = process.getuid?.() ?? 0
  const myGid = process.getgid?.() ?? 0
  if (spec.user !== undefined) {
    if (typeof spec.user !== 'string' || !USER_RE.test(spec.user)) throw argsError('/user', 'must be a user name or a numeric uid')
    const pw = await getent('passwd', spec.user)
    if (!pw) throw argsError('/user', `no such user: ${spec.user}`)
    user = pw[0] ?? spec.user
    uid = Number(pw[2])
    gid = Number(pw[3])
    home = pw[5] || '/'
  }
  // An explicit group counts as the user's own only when it is its primary group or lists it as a
  // member (what --init-groups would give anyway); any other group is a privilege (proc-users.ts).
  let group: string | undefined
  let groupIsUsers = true
  if (spec.group !== undefined) {
    if (typeof spec.group !== 'string' || !USER_RE.test(spec.group)) throw argsError('/group', 'must be a group name or a numeric gid')
    const gr = await getent('group', spec.group)
    if (!gr) throw argsError('/group', `no such group: ${spec.group}`)
    const primary = gid ?? myGid
    group = gr[0] ?? spec.group
    gid = Number(gr[2])
    groupIsUsers = gid === primary || (gr[3] ?? '').split(',').includes(user ?? me.username)
  }
  if ((uid !== null && uid !== myUid) || (gid !== null && gid !== myGid)) {
    if (myUid !== 0)
      throw argsError(spec.user !== undefined ? '/user' : '/group', 'running as another user or group needs the agent to run as root')
    if (!setpriv) throw argsError(spec.user !== undefined ? '/user' : '/group', 'setpriv (util-linux) is not installed')
  }

  const base: Record<string, string> = {
    PATH: DEFAULT_PATH,
    HOME: home ?? me.homedir,
    USER: user ?? me.username,
    LOGNAME: user ?? me.username,
    LANG: 'C.UTF-8',
  }
  const target: ProcTarget = {
    user: user ?? me.username,
    uid: uid ?? myUid,
    gid: gid ?? myGid,
    groupIsUsers,
    ...(group !== undefined ? { group } : {}),
  }
  return { argv: [argv0, ...argv.slice(1)], env: { ...base, ...env }, cwd, uid, gid, user, argv0Resolved, target }
}

/** stop()'s options with their defaults: graceMs 10 s, SIGTERM. */
export function checkStopOptions(opts: { graceMs?: number; signal?: string }): { graceMs: number; signal: string } {
  const graceMs = opts.graceMs ?? 10_000
  const signal = opts.signal ?? 'SIGTERM'
  if (typeof graceMs !== 'number' || !Number.isFinite(graceMs) || graceMs < 0 || graceMs > MAX_GRACE_MS) {
    throw argsError('graceMs', `must be a number of ms between 0 and ${MAX_GRACE_MS}`)
  }
  if (typeof signal !== 'string' || !STOP_SIGNALS.has(signal)) {
    throw argsError('signal', `must be one of ${[...STOP_SIGNALS].join(', ')}`)
  }
  return { graceMs, signal }
}

export function checkName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || !NAME_RE.test(name) || name === '.' || name === '..') {
    throw argsError('/name', 'must match [A-Za-z0-9_.-]{1,64} and not be "." or ".."')
  }
}
export function checkResource(resource: unknown): asserts resource is string {
  if (typeof resource !== 'string' || !RESOURCE_RE.test(resource) || resource === '.' || resource === '..') {
    throw argsError('resource', 'must match [A-Za-z0-9_.:@-]{1,128} and not be "." or ".."')
  }
}

export function findBinary(name: string, pathList = SUP_ENV.PATH): string | null {
  for (const dir of pathList.split(':')) {
    if (!dir.startsWith('/')) continue
    const f = path.join(dir, name)
    try {
      const st = fs.statSync(f)
      if (st.isFile()) {
        fs.accessSync(f, fs.constants.X_OK)
        return f
      }
    } catch {
      /* next */
    }
  }
  return null
}

function getent(db: 'passwd' | 'group', key: string): Promise<string[] | null> {
  return new Promise((resolve) => {
    execFile('getent', [db, key], { timeout: 5000, env: SUP_ENV }, (err, stdout) => {
      if (err) return resolve(null)
      const line = stdout.split('\n')[0]
      resolve(line ? line.split(':') : null)
    })
  })
}
