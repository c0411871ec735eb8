// Agent bootstrap settings: where MCCS keeps its files, this node's name, its ports. Read before
// main.json / hb.json can be found. Precedence: defaults < settings file < MCCS_* environment.
// One settings file is used, the first of: the file MCCS_CONFIG names; /etc/mccs/mccs.config.{json,yaml,yml};
// <config folder>/mccs.config.{json,yaml,yml} (the config folder of MCCS_HOME, /opt/MCCS by default).
// Never a search from the working directory, never code: root runs `mccs` anywhere, and a file another
// user planted there must not become root's settings or run as root (issue 12, finding 3). The file, its
// folder and the folders above must be writable by no one but root or the current user (trusted-file.ts).
// Data is parsed with cosmiconfig's JSON and YAML loaders; its explorer is not used because making one
// reads (and may run) a "meta config" from the process's working directory, which cannot be turned off.
// Every path is configurable so tests and the demo run without root.

import { existsSync, readFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { delimiter, dirname, extname, isAbsolute, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { defaultLoaders } from 'cosmiconfig'
import { MccsError } from '../errors.js'
import { configAjv, explainErrors } from './ajv.js'
import type { ConfigIssue } from './issue.js'
import { readTrustedFile } from './trusted-file.js'

export interface Bootstrap {
  home: string
  configDir: string
  stateDir: string
  logDir: string
  scriptDir: string
  /** Where resource-type plugins are loaded from: the configured directories, then the built-in one. */
  pluginDirs: string[]
  /** The plugins shipped with MCCS (also the last entry of pluginDirs), or null when disabled/absent. */
  builtinPluginDir: string | null
  nodeName: string
  /** Unix socket of the local control API (the CLI talks to the agent through it). */
  controlSocket: string
  consolePort: number
  heartbeatPort: number
  /** Where the values came from, for `mccs agent --show-settings` and support bundles. */
  source: { file: string | null; env: string[] }
}

export const DEFAULT_HOME = '/opt/MCCS'
/** The settings file names looked for in each place, in this order. Data formats only. */
export const SETTINGS_FILES = ['mccs.config.json', 'mccs.config.yaml', 'mccs.config.yml']
/** The system-wide place, before the home's config folder. */
export const SYSTEM_DIR = '/etc/mccs'
/** A settings file larger than this is refused: it holds a dozen short values. */
export const MAX_SETTINGS_BYTES = 64 * 1024
const LOADERS: Record<string, 'json' | 'yaml'> = { '.json': 'json', '.yaml': 'yaml', '.yml': 'yaml' }

/** Environment variable -> setting. Lists use the platform path delimiter (':'). */
export const ENV_VARS = {
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
} as const
/** Names the settings file explicitly (as `file`); the other places are not looked at then. */
export const ENV_FILE = 'MCCS_CONFIG'
/** The earlier name of MCCS_CONFIG, still honoured. */
export const ENV_FILE_OLD = 'MCCS_BOOTSTRAP'

const path = { type: 'string', minLength: 1, maxLength: 4096 } as const
const port = { type: 'integer', minimum: 1, maximum: 65535 } as const
const SETTINGS_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  additionalProperties: false,
  properties: {
    home: path,
    configDir: path,
    stateDir: path,
    logDir: path,
    scriptDir: path,
    pluginDirs: { type: 'array', items: path, maxItems: 64 },
    builtinPluginDir: { anyOf: [path, { type: 'null' }] },
    nodeName: { type: 'string', pattern: '^[A-Za-z][A-Za-z0-9_.-]{0,63}$' },
    controlSocket: path,
    consolePort: port,
    heartbeatPort: port,
  },
} as const
const checkSettings = configAjv().compile(SETTINGS_SCHEMA)

type Settings = Partial<Omit<Bootstrap, 'source'>>
const PATH_KEYS = ['home', 'configDir', 'stateDir', 'logDir', 'scriptDir', 'controlSocket', 'builtinPluginDir'] as const

export async function loadBootstrap(
  opts: { cwd?: string; file?: string; env?: NodeJS.ProcessEnv; systemDir?: string } = {},
): Promise<Bootstrap> {
  const cwd = resolve(opts.cwd ?? process.cwd())
  const env = opts.env ?? process.env
  const { settings: fromEnv, used } = readEnv(env, cwd)
  const named =
    opts.file !== undefined
      ? { file: opts.file, field: 'file' }
      : env[ENV_FILE]
        ? { file: env[ENV_FILE], field: ENV_FILE }
        : env[ENV_FILE_OLD]
          ? { file: env[ENV_FILE_OLD], field: ENV_FILE_OLD }
          : null
  const { settings: fromFile, file } = named
    ? await readNamedFile(resolve(cwd, named.file), named.field)
    : await findSettingsFile([opts.systemDir ?? SYSTEM_DIR, fromEnv.configDir ?? join(fromEnv.home ?? DEFAULT_HOME, 'config')])

  const s: Settings = { ...fromFile, ...fromEnv }
  const home = s.home ?? DEFAULT_HOME
  const stateDir = s.stateDir ?? join(home, 'state')
  const builtin = s.builtinPluginDir === undefined ? findBuiltinPluginDir() : s.builtinPluginDir
  const configured = s.pluginDirs ?? [join(home, 'plugins')]
  const b: Bootstrap = {
    home,
    configDir: s.configDir ?? join(home, 'config'),
    stateDir,
    logDir: s.logDir ?? join(home, 'logs'),
    scriptDir: s.scriptDir ?? join(home, 'script'),
    pluginDirs: builtin && !configured.includes(builtin) ? [...configured, builtin] : configured,
    builtinPluginDir: builtin,
    nodeName: s.nodeName ?? defaultNodeName(),
    controlSocket: s.controlSocket ?? join(stateDir, 'mccs.sock'),
    consolePort: s.consolePort ?? 11080,
    heartbeatPort: s.heartbeatPort ?? 14321,
    source: { file, env: used },
  }
  // sun_path is 108 bytes on Linux; a longer path fails only later, at listen(), and cryptically.
  if (Buffer.byteLength(b.controlSocket) > 107) {
    fail(fromEnv.controlSocket ? 'environment' : (file ?? 'defaults'), [
      { path: '/controlSocket', reason: `path is longer than 107 bytes (a Unix socket limit): ${b.controlSocket}` },
    ])
  }
  return b
}

type FileSettings = { settings: Settings; file: string | null }

/** The first settings file present in `dirs` (each dir in SETTINGS_FILES order); none is fine. */
async function findSettingsFile(dirs: string[]): Promise<FileSettings> {
  for (const dir of dirs) {
    for (const name of SETTINGS_FILES) {
      const found = await readSettingsFile(join(dir, name), true)
      if (found) return found
    }
  }
  return { settings: {}, file: null }
}

/** The file MCCS_CONFIG (or the `file` option) names: it must exist and be JSON or YAML. */
async function readNamedFile(file: string, field: string): Promise<FileSettings> {
  if (!LOADERS[extname(file)]) {
    throw new MccsError('MCCS_ERR_BOOTSTRAP', 'a settings file must be JSON (.json) or YAML (.yaml, .yml); code is never loaded', {
      subject: file,
      field,
    })
  }
  return (await readSettingsFile(file, false))!
}

async function readSettingsFile(file: string, optional: boolean): Promise<FileSettings | null> {
  let text: string
  try {
    text = (await readTrustedFile(file, { maxBytes: MAX_SETTINGS_BYTES })).text
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (optional && (code === 'ENOENT' || code === 'ENOTDIR')) return null
    if (e instanceof MccsError) throw e
    throw new MccsError('MCCS_ERR_BOOTSTRAP', `cannot read the settings file: ${(e as Error).message}`, { subject: file, cause: e })
  }
  let raw: unknown
  try {
    const loader = LOADERS[extname(file)] === 'json' ? defaultLoaders['.json'] : defaultLoaders['.yaml']
    raw = text.trim() === '' ? {} : await loader!(file, text)
  } catch (e) {
    throw new MccsError('MCCS_ERR_BOOTSTRAP', `cannot parse the settings file: ${(e as Error).message}`, { subject: file, cause: e })
  }
  raw ??= {}
  const issues = checkSettings(raw) ? [] : explainErrors(checkSettings.errors)
  if (issues.length > 0) fail(file, issues)
  // Relative paths in a file are relative to the file, not to wherever the agent was started.
  return { settings: absolutize(raw as Settings, dirname(file)), file }
}

function readEnv(env: NodeJS.ProcessEnv, cwd: string): { settings: Settings; used: string[] } {
  const raw: Record<string, unknown> = {}
  const used: string[] = []
  for (const [name, key] of Object.entries(ENV_VARS)) {
    const v = env[name]
    if (v === undefined || v === '') continue
    used.push(name)
    if (key === 'pluginDirs') raw[key] = v.split(delimiter).filter(Boolean)
    else if (key === 'builtinPluginDir') raw[key] = v === 'none' ? null : v
    else if (key === 'consolePort' || key === 'heartbeatPort') raw[key] = /^\d+$/.test(v) ? Number(v) : v
    else raw[key] = v
  }
  if (!checkSettings(raw)) {
    const back = Object.fromEntries(Object.entries(ENV_VARS).map(([n, k]) => [k, n]))
    fail(
      'environment',
      explainErrors(checkSettings.errors).map((e) => ({ ...e, reason: `${back[e.path.split('/')[1] ?? ''] ?? ''}: ${e.reason}` })),
    )
  }
  return { settings: absolutize(raw as Settings, cwd), used }
}

function absolutize(s: Settings, base: string): Settings {
  const out: Settings = { ...s }
  for (const k of PATH_KEYS) {
    const v = out[k]
    if (typeof v === 'string' && !isAbsolute(v)) out[k] = resolve(base, v)
  }
  if (out.pluginDirs) out.pluginDirs = out.pluginDirs.map((d) => resolve(base, d))
  return out
}

function fail(subject: string, errors: { path: string; reason: string }[]): never {
  const issues: ConfigIssue[] = errors.map((e) => ({ file: subject, path: e.path, code: 'MCCS_ERR_BOOTSTRAP', reason: e.reason }))
  const first = issues[0]
  const reason = issues.length === 1 && first ? first.reason : issues.map((i) => `${i.path}: ${i.reason}`).join('; ')
  throw new MccsError('MCCS_ERR_BOOTSTRAP', reason, {
    subject,
    ...(first ? { field: first.path } : {}),
    data: { issues },
  })
}

/** Host names may carry a domain or characters a node name may not; keep the first label, made valid. */
function defaultNodeName(): string {
  const h =
    hostname()
      .split('.')[0]
      ?.replace(/[^A-Za-z0-9_.-]/g, '-')
      .slice(0, 64) ?? ''
  return /^[A-Za-z]/.test(h) ? h : `node-${h}`.slice(0, 64)
}

let builtinCache: string | null | undefined
/** The `plugins/` folder of the MCCS installation this module belongs to (source tree or dist bundle). */
export function findBuiltinPluginDir(): string | null {
  if (builtinCache !== undefined) return builtinCache
  builtinCache = null
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string }
      if (pkg.name === 'mccs' && existsSync(join(dir, 'plugins'))) {
        builtinCache = join(dir, 'plugins')
        break
      }
    } catch {
      /* not here */
    }
    if (dirname(dir) === dir) break
  }
  return builtinCache
}
