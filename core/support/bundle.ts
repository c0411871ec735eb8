// One node's support bundle (manual 4.2.5.1): configuration (secrets redacted, keys and accounts never
// included), logs, operator scripts, the agent's status, processes and system facts, and a manifest of
// what is inside and what was left out and why. Collection never fails on one missing piece: what
// could not be read is named in the manifest.
import { execFile } from 'node:child_process'
import { readdir, readFile, stat, open } from 'node:fs/promises'
import { setImmediate as yieldLoop } from 'node:timers/promises'
import { promisify } from 'node:util'
import { gunzip, gzip } from 'node:zlib'
import os from 'node:os'
import path from 'node:path'
import type { Bootstrap } from '../config/bootstrap.js'
import { tar, type TarEntry } from './tar.js'
import {
  knownSecrets,
  redactConfig,
  redactJsonText,
  redactLogLine,
  redactText,
  rememberSecrets,
  REDACTED,
  type SchemaOf,
  type SecretSet,
} from '../log/redact.js'

/** Never in a bundle, whatever their content: the cluster key, console accounts, private keys. */
const NEVER = /^(cluster\.key|accounts\.json)$|\.(key|pem|p12|pfx)$/i
/** Larger files keep their newest part (a log's tail is what support reads). */
export const MAX_FILE_BYTES = 20 * 1024 * 1024
const MAX_SCRIPTS = 200
/** A longer line is cut before redaction (support needs no megabyte lines; redaction time stays bounded). */
const MAX_LINE = 256 * 1024
const gzipAsync = promisify(gzip)
const gunzipAsync = promisify(gunzip)

export interface NodeManifest {
  node: string
  createdAt: string
  mccsVersion: string
  files: Array<{ path: string; size: number; note?: string }>
  excluded: Array<{ path: string; reason: string }>
  errors: Array<{ what: string; message: string }>
}

export interface CollectOptions {
  bootstrap: Bootstrap
  /** The agent's status (AgentStatus); when it throws, the reason is written instead. */
  status: () => Promise<unknown>
  now?: Date
  mccsVersion?: string
}

export async function collectNodeBundle(o: CollectOptions): Promise<{ data: Buffer; manifest: NodeManifest }> {
  const b = o.bootstrap
  const now = o.now ?? new Date()
  const m: NodeManifest = {
    node: b.nodeName,
    createdAt: now.toISOString(),
    mccsVersion: o.mccsVersion ?? 'unknown',
    files: [],
    excluded: [],
    errors: [],
  }
  const entries: TarEntry[] = []
  const add = (rel: string, data: Buffer | string, note?: string) => {
    const buf = typeof data === 'string' ? Buffer.from(data) : data
    entries.push({ name: `${b.nodeName}/${rel}`, data: buf, mtime: now })
    m.files.push({ path: rel, size: buf.length, ...(note ? { note } : {}) })
  }
  // What is secret on this node: the schema marks of the installed types, and every value the
  // configuration (in force and previous) hides — so that logs quoting one are scrubbed too.
  const schemaOf = await typeSchemas(b.pluginDirs)
  const known = knownSecrets.copy()
  for (const name of ['hb.json', 'main.json', 'hb.json.prev', 'main.json.prev']) {
    const text = await readFile(path.join(b.configDir, name), 'utf8').catch(() => null)
    if (text !== null) {
      try {
        rememberSecrets(JSON.parse(text), schemaOf, known)
      } catch {
        /* not JSON: not collected either */
      }
    }
  }
  const clusterKey = await readFile(path.join(b.configDir, 'cluster.key')).catch(() => null)
  if (clusterKey?.length) for (const enc of ['hex', 'base64', 'base64url'] as const) known.add(clusterKey.toString(enc))
  const ro = { known }

  // config/: every JSON file redacted; the license file as is (it is signed, not secret).
  for (const name of await list(b.configDir, m, 'config')) {
    const rel = `config/${name}`
    if (NEVER.test(name)) {
      m.excluded.push({ path: rel, reason: 'secret (key, accounts): never collected' })
      continue
    }
    const full = path.join(b.configDir, name)
    if (!(await isFile(full))) {
      m.excluded.push({ path: rel, reason: 'not a regular file (folders under config/ may hold keys)' })
      continue
    }
    if (name.endsWith('.json')) {
      const text = await readText(full, m, rel)
      if (text === null) continue
      const r = redactJsonText(text, schemaOf, ro)
      if (r.ok) add(rel, r.text, 'secrets redacted (schema marks, key names, values)')
      else m.excluded.push({ path: rel, reason: r.reason })
    } else if (name.endsWith('.lic')) {
      const text = await readText(full, m, rel)
      if (text !== null) add(rel, known.scrub(text))
    } else {
      m.excluded.push({ path: rel, reason: 'not a configuration file MCCS knows to be free of secrets' })
    }
  }
  // The bootstrap settings file, if one was used (its schema holds no secret, but redact anyway).
  if (b.source.file) {
    const rel = `config/settings/${path.basename(b.source.file)}`
    const text = await readText(b.source.file, m, rel)
    if (text !== null) {
      const r =
        b.source.file.endsWith('.json') || b.source.file.endsWith('rc')
          ? redactJsonText(text, undefined, ro)
          : { ok: false as const, reason: 'settings file is not JSON; left out so no secret leaks' }
      if (r.ok) add(rel, r.text, 'secrets redacted')
      else m.excluded.push({ path: rel, reason: r.reason })
    }
  }
  add(
    'config/settings/effective.json',
    JSON.stringify(redactConfig(b, undefined, ro), null, 2) + '\n',
    'the settings this node runs with (paths, ports, sources)',
  )

  // logs/: the agent log with its rotations (gzip'd ones unpacked, redacted, packed again) and the operation log.
  for (const name of await list(b.logDir, m, 'logs')) {
    if (!/^(mccs\.log|operation\.log)(\.[\w.-]+)?$/.test(name)) continue
    const rel = `logs/${name}`
    if (name.endsWith('.gz')) {
      const data = await readGzTail(path.join(b.logDir, name), m, rel)
      if (data)
        add(rel, await gzipAsync(Buffer.from(await redactLines(data.text, ro))), ['secrets redacted', data.note].filter(Boolean).join('; '))
    } else {
      const data = await readTail(path.join(b.logDir, name), m, rel)
      if (data) add(rel, await redactLines(data.buf.toString('utf8'), ro), ['secrets redacted', data.note].filter(Boolean).join('; '))
    }
  }

  // script/: operator scripts (manual: support files include user-defined scripts), secret-looking values redacted.
  let scripts = 0
  for (const rel of await walk(b.scriptDir, m)) {
    if (NEVER.test(path.basename(rel))) {
      m.excluded.push({ path: `script/${rel}`, reason: 'secret (key): never collected' })
      continue
    }
    if (++scripts > MAX_SCRIPTS) {
      m.excluded.push({ path: `script/${rel}`, reason: `more than ${MAX_SCRIPTS} files in script/` })
      continue
    }
    const data = await readTail(path.join(b.scriptDir, rel), m, `script/${rel}`)
    if (!data) continue
    if (data.buf.includes(0)) {
      m.excluded.push({ path: `script/${rel}`, reason: 'binary file: cannot be redacted, so not collected' })
      continue
    }
    add(
      `script/${rel}`,
      await redactLines(data.buf.toString('utf8'), ro, false),
      ['secret-looking values redacted', data.note].filter(Boolean).join('; '),
    )
  }

  try {
    add('status.json', JSON.stringify(redactConfig(await o.status(), schemaOf, ro), null, 2) + '\n')
  } catch (e) {
    m.errors.push({ what: 'status.json', message: redactText((e as Error).message, ro) })
    add('status.json', JSON.stringify({ error: redactText((e as Error).message, ro) }, null, 2) + '\n', 'the agent did not answer')
  }

  // The process list: command lines redacted like log text (no /proc/<pid>/environ is ever read).
  add(
    'processinfo.txt',
    await redactLines(await cmd(['ps', '-eo', 'pid,ppid,pgid,user,lstart,etime,pcpu,rss,stat,args', '--sort=pid'], m), ro, false),
    'command lines redacted',
  )
  add('system/uname.txt', redactText(await cmd(['uname', '-a'], m), ro))
  add('system/ip-addr.json', redactText(await cmd(['ip', '-j', 'addr'], m), ro))
  add('system/ip-route.txt', redactText(await cmd(['ip', 'route'], m), ro))
  add('system/free.txt', await cmd(['free', '-b'], m))
  add('system/df.txt', redactText(await cmd(['df', '-P'], m), ro))
  add('system/uptime.txt', await cmd(['uptime'], m))
  const osRelease = await readText('/etc/os-release', m, 'system/os-release')
  if (osRelease !== null) add('system/os-release', osRelease)
  add(
    'system/node.json',
    JSON.stringify(
      {
        hostname: os.hostname(),
        node: process.version,
        versions: process.versions,
        arch: process.arch,
        cpus: os.cpus().length,
        loadavg: os.loadavg(),
        totalMem: os.totalmem(),
        freeMem: os.freemem(),
        uptimeS: os.uptime(),
      },
      null,
      2,
    ) + '\n',
  )

  // Last guard: the cluster key's raw bytes nowhere (its text forms are known values above).
  if (clusterKey?.length) {
    for (const e of entries) {
      if (e.data.includes(clusterKey))
        e.data = Buffer.from(e.data.toString('latin1').split(clusterKey.toString('latin1')).join(REDACTED), 'latin1')
    }
  }
  for (const e of m.errors) e.message = redactText(e.message, ro)
  const manifestText = JSON.stringify(m, null, 2) + '\n'
  entries.push({ name: `${b.nodeName}/manifest.json`, data: Buffer.from(manifestText), mtime: now })
  // gzip in libuv's pool: a 20 MiB log does not hold the event loop.
  return { data: await gzipAsync(tar(entries)), manifest: m }
}

/** Each resource type's attribute schema (its manifest's wizard), read from the plugin folders: the CLI has no loaded host. */
async function typeSchemas(dirs: string[]): Promise<SchemaOf> {
  const schemas = new Map<string, object>()
  for (const dir of dirs) {
    let names: string[]
    try {
      names = await readdir(dir)
    } catch {
      continue
    }
    for (const n of names) {
      try {
        const man = JSON.parse(await readFile(path.join(dir, n, 'plugin.json'), 'utf8')) as { name?: unknown; wizard?: unknown }
        // The first folder wins, as when the agent loads plugins.
        if (typeof man.name === 'string' && man.wizard && typeof man.wizard === 'object' && !schemas.has(man.name))
          schemas.set(man.name, man.wizard)
      } catch {
        /* not a plugin folder, or a broken manifest: the agent refuses it too */
      }
    }
  }
  return (type) => schemas.get(type)
}

/**
 * Text redacted line by line (a JSON line as data, others as text), yielding to the event loop every
 * few thousand lines. A tail that starts inside a line loses that piece; a line over MAX_LINE is cut.
 */
async function redactLines(text: string, o: { known: SecretSet }, json = true): Promise<string> {
  const lines = text.split('\n')
  const out: string[] = []
  let since = 0
  for (let l of lines) {
    if (l.length > MAX_LINE) l = `${l.slice(0, MAX_LINE)}… [${l.length - MAX_LINE} characters cut]`
    out.push(json ? redactLogLine(l, o) : redactText(l, o))
    since += l.length
    if (since > 512 * 1024) {
      since = 0
      await yieldLoop()
    }
  }
  return out.join('\n')
}

async function list(dir: string, m: NodeManifest, what: string): Promise<string[]> {
  try {
    return (await readdir(dir)).sort()
  } catch (e) {
    m.errors.push({ what: `${what}/ (${dir})`, message: (e as Error).message })
    return []
  }
}

async function isFile(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isFile()
  } catch {
    return false
  }
}

/** Regular files under dir, relative, sorted; symlinks are not followed (they may point anywhere). */
async function walk(dir: string, m: NodeManifest, rel = ''): Promise<string[]> {
  let names: import('node:fs').Dirent[]
  try {
    names = await readdir(path.join(dir, rel), { withFileTypes: true })
  } catch (e) {
    if (rel === '') m.errors.push({ what: `script/ (${dir})`, message: (e as Error).message })
    return []
  }
  const out: string[] = []
  for (const d of names.sort((a, b) => a.name.localeCompare(b.name))) {
    const r = rel ? `${rel}/${d.name}` : d.name
    if (d.isDirectory()) out.push(...(await walk(dir, m, r)))
    else if (d.isFile()) out.push(r)
    else m.excluded.push({ path: `script/${r}`, reason: 'not a regular file' })
  }
  return out
}

async function readText(p: string, m: NodeManifest, rel: string): Promise<string | null> {
  try {
    return await readFile(p, 'utf8')
  } catch (e) {
    m.errors.push({ what: rel, message: (e as Error).message })
    return null
  }
}

async function readTail(p: string, m: NodeManifest, rel: string): Promise<{ buf: Buffer; note?: string } | null> {
  try {
    const fh = await open(p, 'r')
    try {
      const { size } = await fh.stat()
      const len = Math.min(size, MAX_FILE_BYTES)
      let buf = Buffer.alloc(len)
      await fh.read(buf, 0, len, size - len)
      // A cut tail starts inside a line: that piece goes (a secret cut in two is not recognisable).
      if (size > len) buf = buf.subarray(buf.indexOf(0x0a) + 1)
      return { buf, ...(size > len ? { note: `last ${buf.length} of ${size} bytes` } : {}) }
    } finally {
      await fh.close()
    }
  } catch (e) {
    m.errors.push({ what: rel, message: (e as Error).message })
    return null
  }
}

/** A gzip'd rotation unpacked (at most 8 × MAX_FILE_BYTES), keeping its newest MAX_FILE_BYTES. */
async function readGzTail(p: string, m: NodeManifest, rel: string): Promise<{ text: string; note?: string } | null> {
  try {
    const raw = await gunzipAsync(await readFile(p), { maxOutputLength: 8 * MAX_FILE_BYTES })
    if (raw.length <= MAX_FILE_BYTES) return { text: raw.toString('utf8') }
    const tail = raw.subarray(raw.length - MAX_FILE_BYTES)
    const text = tail.subarray(tail.indexOf(0x0a) + 1).toString('utf8')
    return { text, note: `last ${Buffer.byteLength(text)} of ${raw.length} bytes (unpacked)` }
  } catch (e) {
    m.errors.push({ what: rel, message: `cannot unpack: ${(e as Error).message}` })
    m.excluded.push({ path: rel, reason: 'a compressed log that cannot be unpacked cannot be redacted' })
    return null
  }
}

function cmd(argv: string[], m: NodeManifest): Promise<string> {
  const [file, ...args] = argv as [string, ...string[]]
  return new Promise((resolve) => {
    execFile(file, args, { timeout: 10_000, maxBuffer: 16 * 1024 * 1024, env: { ...process.env, LC_ALL: 'C' } }, (err, out, errOut) => {
      if (err) {
        m.errors.push({ what: argv.join(' '), message: `${err.message.split('\n')[0]}${errOut ? `: ${errOut.trim().slice(0, 500)}` : ''}` })
        resolve(`# ${argv.join(' ')} failed: ${err.message.split('\n')[0]}\n${out}`)
      } else {
        resolve(out)
      }
    })
  })
}
