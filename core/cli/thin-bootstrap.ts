// Where the control socket and the config folder are, for the thin commands (thin.ts), without loading
// core/config/bootstrap.ts: that module compiles its settings schema with ajv and loads cosmiconfig when it
// is imported, which is most of what `mccs status` cost. This is not a second validator: it answers only
// when the settings are plainly within what loadBootstrap() accepts (JSON or no settings file, every value
// of the simple shape the schema asks), and declines (null) on anything else, so the full path reads the
// settings again and gives its own answer or its own error. test/cli/thin-bootstrap.test.ts holds the
// constants below to bootstrap.ts's and compares the two on the same homes and environments.
import { statSync } from 'node:fs'
import { delimiter, dirname, extname, isAbsolute, join, resolve } from 'node:path'
import type { Bootstrap } from '../config/bootstrap.js'
import { readTrustedFile } from '../config/trusted-file.js'

export type ControlPaths = Pick<Bootstrap, 'controlSocket' | 'configDir'>

// As in core/config/bootstrap.ts (the test compares them).
export const DEFAULT_HOME = '/opt/MCCS'
export const SETTINGS_FILES = ['mccs.config.json', 'mccs.config.yaml', 'mccs.config.yml']
export const SYSTEM_DIR = '/etc/mccs'
export const MAX_SETTINGS_BYTES = 64 * 1024
export const ENV_FILE = 'MCCS_CONFIG'
export const ENV_FILE_OLD = 'MCCS_BOOTSTRAP'

type Key = Exclude<keyof Bootstrap, 'source'>
type Shape = 'path' | 'paths' | 'pathOrNull' | 'name' | 'port'
/** Every setting and the shape that is plainly valid; a Bootstrap key missing here fails the type check. */
const SHAPES: Record<Key, Shape> = {
  home: 'path',
  configDir: 'path',
  stateDir: 'path',
  logDir: 'path',
  scriptDir: 'path',
  pluginDirs: 'paths',
  builtinPluginDir: 'pathOrNull',
  nodeName: 'name',
  controlSocket: 'path',
  consolePort: 'port',
  heartbeatPort: 'port',
}
export const ENV_VARS: Record<string, Key> = {
  MCCS_HOME: 'home',
  MCCS_CONFIG_DIR: 'configDir',
  MCCS_STATE_DIR: 'stateDir',
  MCCS_LOG_DIR: 'logDir',
  MCCS_SCRIPT_DIR: 'scriptDir',
  MCCS_PLUGIN_DIRS: 'pluginDirs',
  MCCS_BUILTIN_PLUGIN_DIR: 'builtinPluginDir',
  MCCS_NODE_NAME: 'nodeName',
  MCCS_CONTROL_SOCKET: 'controlSocket',
  MCCS_CONSOLE_PORT: 'consolePort',
  MCCS_HEARTBEAT_PORT: 'heartbeatPort',
}
const PATH_KEYS: Key[] = ['home', 'configDir', 'stateDir', 'logDir', 'scriptDir', 'controlSocket', 'builtinPluginDir']

type Settings = Partial<Record<Key, unknown>>

// UTF-16 length bounds the code points ajv counts from above: within it here is within it there.
const isPath = (v: unknown): v is string => typeof v === 'string' && v.length >= 1 && v.length <= 4096
const plain: Record<Shape, (v: unknown) => boolean> = {
  path: isPath,
  paths: (v) => Array.isArray(v) && v.length <= 64 && v.every(isPath),
  pathOrNull: (v) => v === null || isPath(v),
  name: (v) => typeof v === 'string' && /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/.test(v),
  port: (v) => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= 65535,
}

function plainlyValid(s: unknown): s is Settings {
  if (typeof s !== 'object' || s === null || Array.isArray(s)) return false
  return Object.entries(s).every(([k, v]) => Object.hasOwn(SHAPES, k) && plain[SHAPES[k as Key]](v))
}

/** The control socket and config folder loadBootstrap() would give, or null where only it can tell. */
export async function controlPaths(opts: { cwd?: string; env?: NodeJS.ProcessEnv; systemDir?: string } = {}): Promise<ControlPaths | null> {
  const cwd = resolve(opts.cwd ?? process.cwd())
  const env = opts.env ?? process.env
  const raw: Settings = {}
  for (const [name, key] of Object.entries(ENV_VARS)) {
    const v = env[name]
    if (v === undefined || v === '') continue
    if (key === 'pluginDirs') raw[key] = v.split(delimiter).filter(Boolean)
    else if (key === 'builtinPluginDir') raw[key] = v === 'none' ? null : v
    else if (key === 'consolePort' || key === 'heartbeatPort') raw[key] = /^\d+$/.test(v) ? Number(v) : v
    else raw[key] = v
  }
  if (!plainlyValid(raw)) return null
  const fromEnv = absolutize(raw, cwd)
  const named = env[ENV_FILE] || env[ENV_FILE_OLD]
  let fromFile: Settings | null = {}
  if (named) fromFile = (await readSettings(resolve(cwd, named), false)) ?? null
  else {
    const home = (fromEnv.home as string | undefined) ?? DEFAULT_HOME
    const dirs = [opts.systemDir ?? SYSTEM_DIR, (fromEnv.configDir as string | undefined) ?? join(home, 'config')]
    found: for (const dir of dirs) {
      for (const name of SETTINGS_FILES) {
        const s = await readSettings(join(dir, name), true)
        if (s === undefined) continue
        fromFile = s
        break found
      }
    }
  }
  if (fromFile === null) return null
  const s = { ...fromFile, ...fromEnv } as Partial<Pick<Bootstrap, 'home' | 'stateDir' | 'configDir' | 'controlSocket'>>
  const home = s.home ?? DEFAULT_HOME
  const controlSocket = s.controlSocket ?? join(s.stateDir ?? join(home, 'state'), 'mccs.sock')
  // loadBootstrap refuses a socket path over the Unix limit: its error, not ours.
  if (Buffer.byteLength(controlSocket) > 107) return null
  return { controlSocket, configDir: s.configDir ?? join(home, 'config') }
}

/** A JSON settings file's settings; undefined when an optional one is absent; null: leave it to loadBootstrap. */
async function readSettings(file: string, optional: boolean): Promise<Settings | null | undefined> {
  let text: string
  try {
    // Most places hold no settings file: a stat says so without readTrustedFile's failed realpath (same answer).
    if (optional && !statSync(file, { throwIfNoEntry: false })) return undefined
    text = (await readTrustedFile(file, { maxBytes: MAX_SETTINGS_BYTES })).text
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    return optional && (code === 'ENOENT' || code === 'ENOTDIR') ? undefined : null
  }
  if (extname(file) !== '.json') return null // YAML (cosmiconfig's loader) or not a settings file at all
  let raw: unknown
  try {
    raw = text.trim() === '' ? {} : JSON.parse(text)
  } catch {
    return null
  }
  raw ??= {}
  return plainlyValid(raw) ? absolutize(raw, dirname(file)) : null
}

function absolutize(s: Settings, base: string): Settings {
  const out: Settings = { ...s }
  for (const k of PATH_KEYS) {
    const v = out[k]
    if (typeof v === 'string' && !isAbsolute(v)) out[k] = resolve(base, v)
  }
  return out
}
