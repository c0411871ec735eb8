// One node's support bundle (manual 4.2.5.1): configuration (secrets redacted, keys and accounts never
// included), logs, operator scripts, the agent's status, processes and system facts, and a manifest of
// what is inside and what was left out and why. Collection never fails on one missing piece: what
// could not be read is named in the manifest.
import { execFile } from 'node:child_process'
import { readdir, readFile, stat, open } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import type { Bootstrap } from '../config/bootstrap.js'
import { tarGz, type TarEntry } from './tar.js'
import { redactJsonText } from './redact.js'

/** Never in a bundle, whatever their content: the cluster key, console accounts, private keys. */
const NEVER = /^(cluster\.key|accounts\.json)$|\.(key|pem|p12|pfx)$/i
/** Larger files keep their newest part (a log's tail is what support reads). */
export const MAX_FILE_BYTES = 20 * 1024 * 1024
const MAX_SCRIPTS = 200

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
  const m: NodeManifest = { node: b.nodeName, createdAt: now.toISOString(), mccsVersion: o.mccsVersion ?? 'unknown', files: [], excluded: [], errors: [] }
  const entries: TarEntry[] = []
  const add = (rel: string, data: Buffer | string, note?: string) => {
    const buf = typeof data === 'string' ? Buffer.from(data) : data
    entries.push({ name: `${b.nodeName}/${rel}`, data: buf, mtime: now })
    m.files.push({ path: rel, size: buf.length, ...(note ? { note } : {}) })
  }

  // config/: every JSON file redacted; the license file as is (it is signed, not secret).
  for (const name of await list(b.configDir, m, 'config')) {
    const rel = `config/${name}`
    if (NEVER.test(name)) { m.excluded.push({ path: rel, reason: 'secret (key, accounts): never collected' }); continue }
    const full = path.join(b.configDir, name)
    if (!(await isFile(full))) { m.excluded.push({ path: rel, reason: 'not a regular file (folders under config/ may hold keys)' }); continue }
    if (name.endsWith('.json')) {
      const text = await readText(full, m, rel)
      if (text === null) continue
      const r = redactJsonText(text)
      if (r.ok) add(rel, r.text, 'secret-looking keys redacted')
      else m.excluded.push({ path: rel, reason: r.reason })
    } else if (name.endsWith('.lic')) {
      const text = await readText(full, m, rel)
      if (text !== null) add(rel, text)
    } else {
      m.excluded.push({ path: rel, reason: 'not a configuration file MCCS knows to be free of secrets' })
    }
  }
  // The bootstrap settings file, if one was used (its schema holds no secret, but redact anyway).
  if (b.source.file) {
    const rel = `config/settings/${path.basename(b.source.file)}`
    const text = await readText(b.source.file, m, rel)
    if (text !== null) {
      const r = b.source.file.endsWith('.json') || b.source.file.endsWith('rc') ? redactJsonText(text) : { ok: false as const, reason: 'settings file is not JSON; left out so no secret leaks' }
      if (r.ok) add(rel, r.text, 'secret-looking keys redacted')
      else m.excluded.push({ path: rel, reason: r.reason })
    }
  }
  add('config/settings/effective.json', JSON.stringify(b, null, 2) + '\n', 'the settings this node runs with (paths, ports, sources)')

  // logs/: the agent log with its rotations and the operation log.
  for (const name of await list(b.logDir, m, 'logs')) {
    if (!/^(mccs\.log|operation\.log)(\.[\w.-]+)?$/.test(name)) continue
    const data = await readTail(path.join(b.logDir, name), m, `logs/${name}`)
    if (data) add(`logs/${name}`, data.buf, data.note)
  }

  // script/: operator scripts (manual: support files include user-defined scripts).
  let scripts = 0
  for (const rel of await walk(b.scriptDir, m)) {
    if (NEVER.test(path.basename(rel))) { m.excluded.push({ path: `script/${rel}`, reason: 'secret (key): never collected' }); continue }
    if (++scripts > MAX_SCRIPTS) { m.excluded.push({ path: `script/${rel}`, reason: `more than ${MAX_SCRIPTS} files in script/` }); continue }
    const data = await readTail(path.join(b.scriptDir, rel), m, `script/${rel}`)
    if (data) add(`script/${rel}`, data.buf, data.note)
  }

  try {
    add('status.json', JSON.stringify(await o.status(), null, 2) + '\n')
  } catch (e) {
    m.errors.push({ what: 'status.json', message: (e as Error).message })
    add('status.json', JSON.stringify({ error: (e as Error).message }, null, 2) + '\n', 'the agent did not answer')
  }

  add('processinfo.txt', await cmd(['ps', '-eo', 'pid,ppid,pgid,user,lstart,etime,pcpu,rss,stat,args', '--sort=pid'], m))
  add('system/uname.txt', await cmd(['uname', '-a'], m))
  add('system/ip-addr.json', await cmd(['ip', '-j', 'addr'], m))
  add('system/ip-route.txt', await cmd(['ip', 'route'], m))
  add('system/free.txt', await cmd(['free', '-b'], m))
  add('system/df.txt', await cmd(['df', '-P'], m))
  add('system/uptime.txt', await cmd(['uptime'], m))
  const osRelease = await readText('/etc/os-release', m, 'system/os-release')
  if (osRelease !== null) add('system/os-release', osRelease)
  add('system/node.json', JSON.stringify({
    hostname: os.hostname(), node: process.version, versions: process.versions, arch: process.arch, cpus: os.cpus().length,
    loadavg: os.loadavg(), totalMem: os.totalmem(), freeMem: os.freemem(), uptimeS: os.uptime(),
  }, null, 2) + '\n')

  const manifestText = JSON.stringify(m, null, 2) + '\n'
  entries.push({ name: `${b.nodeName}/manifest.json`, data: Buffer.from(manifestText), mtime: now })
  return { data: tarGz(entries), manifest: m }
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
  try { return (await stat(p)).isFile() } catch { return false }
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
    if (d.isDirectory()) out.push(...await walk(dir, m, r))
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
      const buf = Buffer.alloc(len)
      await fh.read(buf, 0, len, size - len)
      return { buf, ...(size > len ? { note: `last ${len} of ${size} bytes` } : {}) }
    } finally {
      await fh.close()
    }
  } catch (e) {
    m.errors.push({ what: rel, message: (e as Error).message })
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
