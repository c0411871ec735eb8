// The agent user's shared AWS files, as the AWS CLI and the SDK read them: ~/.aws/config and
// ~/.aws/credentials of the agent's user, or the files AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE name.
// The console's "Add AWS CLI Profile" (manual 3.2.3) writes a profile here: its keys in the credentials
// file, its region in the config file, both written atomically with mode 0600 (a folder made for them gets
// 0700). Other profiles, keys and comments of both files are kept as they are. Keys are never read back out
// of this file: a profile is reported with `credentials: 'set'` or 'none', never a value.
import { mkdir, readFile, stat } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { writeFileAtomic } from '../../config/atomic.js'

export interface SharedFiles {
  config: string
  credentials: string
}

/** Where the SDK (fromIni) and the AWS CLI look, in this process. */
export function sharedFiles(env: NodeJS.ProcessEnv = process.env): SharedFiles {
  const home = os.homedir()
  return {
    config: env.AWS_CONFIG_FILE || path.join(home, '.aws/config'),
    credentials: env.AWS_SHARED_CREDENTIALS_FILE || path.join(home, '.aws/credentials'),
  }
}

export interface ProfileView {
  name: string
  /** The profile's region in the config file, if it has one. */
  region?: string
  /** Whether the credentials file holds keys for it (never the keys themselves). */
  credentials: 'set' | 'none'
}

export interface ProfileKeys {
  accessKeyId: string
  secretAccessKey: string
  sessionToken?: string
  region?: string
}

const HEADER = /^\s*\[\s*([^\]]+?)\s*\]\s*$/
const KEY = /^\s*([A-Za-z0-9_.-]+)\s*=\s*(.*?)\s*$/

interface Section {
  name: string
  values: Map<string, string>
}

function sections(text: string): Section[] {
  const out: Section[] = []
  let cur: Section | undefined
  for (const line of text.split('\n')) {
    const h = HEADER.exec(line)
    if (h) {
      cur = { name: h[1]!, values: new Map() }
      out.push(cur)
      continue
    }
    const k = cur && KEY.exec(line)
    if (k) cur!.values.set(k[1]!, k[2]!)
  }
  return out
}

const readOr = (f: string) => readFile(f, 'utf8').catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? '' : Promise.reject(e)))

/** The section that holds a profile in each file: `[name]` in credentials, `[profile name]` in config
 *  (`[default]` in both for the default profile). */
const configSection = (name: string) => (name === 'default' ? 'default' : `profile ${name}`)

/** Profiles of both files with their region and whether keys are set; sorted by name. */
export async function listProfileViews(files: SharedFiles = sharedFiles()): Promise<ProfileView[]> {
  const [cfg, cred] = await Promise.all([readOr(files.config), readOr(files.credentials)])
  const views = new Map<string, ProfileView>()
  const get = (n: string) => views.get(n) ?? views.set(n, { name: n, credentials: 'none' }).get(n)!
  for (const s of sections(cfg)) {
    const n = s.name === 'default' ? 'default' : s.name.startsWith('profile ') ? s.name.slice(8).trim() : undefined
    if (!n) continue
    const v = get(n)
    const region = s.values.get('region')
    if (region) v.region = region
    if (s.values.get('aws_access_key_id') && s.values.get('aws_secret_access_key')) v.credentials = 'set'
  }
  for (const s of sections(cred)) {
    const v = get(s.name)
    if (s.values.get('aws_access_key_id') && s.values.get('aws_secret_access_key')) v.credentials = 'set'
  }
  return [...views.values()].sort((a, b) => a.name.localeCompare(b.name))
}

/** `text` with the keys of section `name` set (undefined: removed); the section is added at the end when
 *  absent. Every other line is kept. */
export function setIniSection(text: string, name: string, values: Record<string, string | undefined>): string {
  const lines = text === '' ? [] : text.replace(/\n$/, '').split('\n')
  let start = lines.findIndex((l) => HEADER.exec(l)?.[1] === name)
  if (start < 0) {
    if (lines.length && lines[lines.length - 1]!.trim() !== '') lines.push('')
    lines.push(`[${name}]`)
    start = lines.length - 1
  }
  let end = lines.findIndex((l, i) => i > start && HEADER.test(l))
  if (end < 0) end = lines.length
  const body = lines.slice(start + 1, end)
  const left = new Set(Object.keys(values))
  const kept: string[] = []
  for (const l of body) {
    const k = KEY.exec(l)?.[1]
    if (k === undefined || !(k in values)) {
      kept.push(l)
      continue
    }
    left.delete(k)
    const v = values[k]
    if (v !== undefined) kept.push(`${k} = ${v}`)
  }
  // New keys go after the section's last key line, before the blank lines that separate it from the next.
  let at = kept.length
  while (at > 0 && kept[at - 1]!.trim() === '') at--
  const added = [...left].filter((k) => values[k] !== undefined).map((k) => `${k} = ${values[k]}`)
  kept.splice(at, 0, ...added)
  return [...lines.slice(0, start + 1), ...kept, ...lines.slice(end)].join('\n') + '\n'
}

async function ensureDir(file: string): Promise<void> {
  const dir = path.dirname(file)
  const exists = await stat(dir).then(
    () => true,
    () => false,
  )
  if (!exists) await mkdir(dir, { recursive: true, mode: 0o700 })
}

/** Writes a profile's keys (credentials file) and region (config file), each file atomically with mode
 *  0600. The caller has checked every value (they contain no line break or bracket). */
export async function writeProfile(name: string, keys: ProfileKeys, files: SharedFiles = sharedFiles()): Promise<void> {
  await ensureDir(files.credentials)
  const cred = setIniSection(await readOr(files.credentials), name, {
    aws_access_key_id: keys.accessKeyId,
    aws_secret_access_key: keys.secretAccessKey,
    aws_session_token: keys.sessionToken,
  })
  await writeFileAtomic(files.credentials, cred, 0o600)
  if (keys.region !== undefined) {
    await ensureDir(files.config)
    const cfg = setIniSection(await readOr(files.config), configSection(name), { region: keys.region })
    await writeFileAtomic(files.config, cfg, 0o600)
  }
}

/** The modification times of both files: a client made before a change must not keep the old keys. */
export async function filesStamp(files: SharedFiles = sharedFiles()): Promise<string> {
  const m = await Promise.all(
    [files.config, files.credentials].map((f) =>
      stat(f).then(
        (s) => s.mtimeMs,
        () => 0,
      ),
    ),
  )
  return m.join(':')
}
