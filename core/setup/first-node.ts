// `mccs setup` on the first node: the manual's installer questions (3.2.1: language, single-node or
// cluster; 5.4.2.1: the license now or later) plus what a Linux cluster needs (node name, cluster name,
// heartbeat links and this node's address on each), turned into a valid hb.json, main.json, cluster key,
// settings file and setup record. Everything is checked before the first file is written, and a step
// that fails after that removes what it wrote: a refused setup changes nothing.
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import type { Bootstrap } from '../config/bootstrap.js'
import { HB_FILE, MAIN_FILE } from '../config/store.js'
import { NAME_PATTERN } from '../config/schema.js'
import { validateHb, validateMain } from '../config/validate.js'
import { invalidConfigError } from '../config/issue.js'
import { versionedFile } from '../config/schema-version.js'
import type { HbConfig } from '../config/hb-model.js'
import type { MainConfig } from '../engine/index.js'
import { clusterKeyPath, createClusterKey } from '../cluster/cluster-key.js'
import { installLicense, LICENSE_FILE } from '../license/store.js'
import { MccsError } from '../errors.js'
import { checkOnHost, hostAddresses, type HostAddress } from './host-addresses.js'
import { checkLanguage, checkNodeNameWins, writeNodeFiles, type Language } from './node-files.js'
import { exists, WrittenFiles } from './written-files.js'

const NAME = new RegExp(NAME_PATTERN)

export interface LinkAnswer {
  name: string
  address: string
}

export interface SetupAnswers {
  language?: string
  mode?: string
  /** This node's name (default: the one the settings give, i.e. the host name). */
  name?: string
  cluster?: string
  /** Heartbeat links in priority order (the first is preferred), with this node's address on each. */
  links: LinkAnswer[]
  /** The license text (or none: limited mode until one is installed, manual 5.4). */
  license?: string
}

export interface SetupResult {
  node: string
  cluster: string
  language: Language
  mode: 'single' | 'cluster'
  files: string[]
  licensed: boolean
}

export function checkName(v: string | undefined, field: string, what: string): string {
  if (!v || !NAME.test(v))
    throw new MccsError(
      'MCCS_ERR_INVALID',
      `${what} '${v ?? ''}' must start with a letter and hold only letters, digits, '_', '.', '-' (at most 64)`,
      { field },
    )
  return v
}

/** `link=address` as given on the command line (`--link l0=10.0.0.1`); a bare address names the link link<i>. */
export function parseLinkFlag(v: string, i: number): LinkAnswer {
  const eq = v.indexOf('=')
  return eq < 0 ? { name: `link${i + 1}`, address: v } : { name: v.slice(0, eq), address: v.slice(eq + 1) }
}

/** Checks the links: names valid and distinct, each address on this host and used once. */
export function checkLinks(links: LinkAnswer[], have: HostAddress[] = hostAddresses()): LinkAnswer[] {
  if (!links.length)
    throw new MccsError('MCCS_ERR_INVALID', "give at least one heartbeat link: --link <name>=<this node's address on it>", {
      field: '--link',
    })
  if (links.length > 8) throw new MccsError('MCCS_ERR_INVALID', 'at most 8 heartbeat links', { field: '--link' })
  const names = new Set<string>()
  const addrs = new Set<string>()
  for (const l of links) {
    checkName(l.name, `--link ${l.name}`, 'a link name')
    if (names.has(l.name)) throw new MccsError('MCCS_ERR_INVALID', `link ${l.name} is given twice`, { field: `--link ${l.name}` })
    checkOnHost(l.address, `--link ${l.name}`, have)
    if (addrs.has(l.address))
      throw new MccsError('MCCS_ERR_INVALID', `${l.address} is given for two links; each link is its own network`, {
        field: `--link ${l.name}`,
      })
    names.add(l.name)
    addrs.add(l.address)
  }
  return links
}

/** Refuses a home that already holds a configuration or a cluster key (a reinstall keeps them: nothing to set up). */
export async function refuseConfigured(b: Bootstrap): Promise<void> {
  for (const f of [HB_FILE, MAIN_FILE, 'cluster.key']) {
    const p = path.join(b.configDir, f)
    if (await exists(p)) {
      let who = ''
      if (f === HB_FILE) {
        try {
          const hb = JSON.parse(await readFile(p, 'utf8')) as HbConfig
          who = ` (cluster ${hb.cluster}, nodes ${hb.nodes.map((n) => n.name).join(', ')})`
        } catch {
          /* named without */
        }
      }
      throw new MccsError(
        'MCCS_ERR_CONFLICT',
        `this node is already set up: ${p} exists${who}. A reinstall keeps the configuration; to start over, mccs uninstall --purge first`,
        { subject: p },
      )
    }
  }
}

/** Builds and validates the first node's hb.json and main.json. */
export function firstNodeConfig(o: { cluster: string; node: string; links: LinkAnswer[]; port: number; configDir: string }): {
  hb: HbConfig
  main: MainConfig
} {
  const hbFile = path.join(o.configDir, HB_FILE)
  const hb = validateHb(
    {
      generation: 1,
      cluster: o.cluster,
      port: o.port,
      links: o.links.map((l, i) => ({ name: l.name, priority: i })),
      nodes: [{ name: o.node, addresses: Object.fromEntries(o.links.map((l) => [l.name, l.address])) }],
    },
    { file: hbFile },
  )
  if (!hb.ok) throw invalidConfigError(hbFile, hb.errors)
  const main = validateMain({ generation: 1 }, { file: path.join(o.configDir, MAIN_FILE), hb: hb.config })
  if (!main.ok) throw invalidConfigError(path.join(o.configDir, MAIN_FILE), main.errors)
  return { hb: hb.config, main: main.config }
}

export async function setupFirstNode(b: Bootstrap, a: SetupAnswers): Promise<SetupResult> {
  const language = checkLanguage(a.language)
  const mode = a.mode ?? 'cluster'
  if (mode !== 'single' && mode !== 'cluster')
    throw new MccsError('MCCS_ERR_INVALID', `'${mode}' is not a mode: single (one server) or cluster (other nodes join later)`, {
      field: '--mode',
    })
  const node = checkName(a.name ?? b.nodeName, '--name', 'the node name')
  const cluster = checkName(a.cluster ?? 'mccs', '--cluster', 'the cluster name')
  const links = checkLinks(a.links)
  await checkNodeNameWins(b, node)
  await refuseConfigured(b)
  const { hb, main } = firstNodeConfig({ cluster, node, links, port: b.heartbeatPort, configDir: b.configDir })
  const w = new WrittenFiles()
  try {
    await w.mkdirs(b.configDir)
    for (const d of [b.stateDir, b.logDir, b.scriptDir]) await w.mkdirs(d)
    await createClusterKey(clusterKeyPath(b.configDir))
    w.note(clusterKeyPath(b.configDir))
    await w.create(path.join(b.configDir, HB_FILE), JSON.stringify(versionedFile('hb', hb), null, 2) + '\n', 0o644)
    await w.create(path.join(b.configDir, MAIN_FILE), JSON.stringify(versionedFile('main', main), null, 2) + '\n', 0o644)
    await writeNodeFiles(b, w, node, { language, mode, at: new Date().toISOString() })
    if (a.license !== undefined) {
      const lic = path.join(b.configDir, LICENSE_FILE)
      if (!(await exists(lic))) w.note(lic)
      await installLicense({ ...b, nodeName: node }, a.license) // checked (signature, node, host, expiry) before it is written
    }
  } catch (err) {
    await w.rollback()
    throw err
  }
  return { node, cluster, language, mode, files: [...w.files], licensed: a.license !== undefined }
}
