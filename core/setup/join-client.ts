// `mccs setup --join <address> --token <token>` on a new host: the joiner's side. It connects to the member
// running `mccs node add` with the token's TLS-PSK (the token authenticates both ends; the cluster key
// arrives encrypted), answers with this host's address on each of the cluster's links (found as the one
// in the member's subnet, or given with --link), and writes what it gets: cluster key, hb.json, main.json,
// the quorum files hb.json names, its node name and setup record. The member writes its own hb.json only
// after this host said it wrote everything; a join that fails here removes what it wrote.
import tls from 'node:tls'
import { isIP } from 'node:net'
import path from 'node:path'
import type { Bootstrap } from '../config/bootstrap.js'
import { HB_FILE, MAIN_FILE } from '../config/store.js'
import { validateHb, validateMain } from '../config/validate.js'
import { invalidConfigError } from '../config/issue.js'
import { versionedFile } from '../config/schema-version.js'
import { CLUSTER_KEY_BYTES, clusterKeyPath, createClusterKey } from '../cluster/cluster-key.js'
import { pskAuthenticated, pskClientOptions } from '../cluster/tls.js'
import { installLicense, LICENSE_FILE } from '../license/store.js'
import { MccsError, isMccsError } from '../errors.js'
import { JOIN_VERSION, JoinConversation } from './join-protocol.js'
import { JOIN_PORT_OFFSET, joinIdentity, joinPsk, parseJoinToken } from './join-token.js'
import { checkLinks, refuseConfigured, type LinkAnswer } from './first-node.js'
import { checkOnHost, hostAddresses, sameSubnet } from './host-addresses.js'
import { checkLanguage, checkNodeNameWins, writeNodeFiles, type Language } from './node-files.js'
import { exists, WrittenFiles } from './written-files.js'

const STEP_MS = 30_000

export interface JoinOptions {
  /** The member: host or host:port ([v6]:port). */
  address: string
  token: string
  /** This host's address per link; links not given are found by subnet. */
  links?: LinkAnswer[]
  language?: string
  license?: string
  connectTimeoutMs?: number
}

export interface JoinResult {
  node: string
  cluster: string
  language: Language
  addresses: Record<string, string>
  generation: number
  /** The running cluster took this node in at once: only this node's agent needs starting. */
  live: boolean
  members: string[]
}

export function parseEndpoint(v: string, defaultPort: number): { host: string; port: number } {
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(v) ?? (isIP(v) === 6 ? [v, v, undefined] : /^([^:]+)(?::(\d+))?$/.exec(v))
  const host = m?.[1]
  const port = m?.[2] ? Number(m[2]) : defaultPort
  if (!host || !isIP(host) || !(port >= 1 && port <= 65535))
    throw new MccsError('MCCS_ERR_INVALID', `'${v}' is not <member address>[:port] (an IP address of a member on a heartbeat link)`, {
      field: '--join',
    })
  return { host, port }
}

function connect(host: string, port: number, token: ReturnType<typeof parseJoinToken>, timeoutMs: number): Promise<tls.TLSSocket> {
  const at = `${host}:${port}`
  return new Promise((resolve, reject) => {
    const sock = tls.connect({ host, port, ...pskClientOptions(joinIdentity(token), joinPsk(token)) })
    let tcpUp = false
    const timer = setTimeout(() => {
      sock.destroy()
      reject(new MccsError('MCCS_ERR_PEER_TIMEOUT', `no answer from ${at} within ${Math.round(timeoutMs / 1000)} s`, { field: '--join' }))
    }, timeoutMs)
    sock.once('connect', () => {
      tcpUp = true
    })
    sock.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer)
      if (!tcpUp) {
        reject(
          new MccsError(
            'MCCS_ERR_PEER_UNREACHABLE',
            `nothing accepts joins at ${at} (${e.code ?? e.message}): run mccs node add <name> on a member; a token works once, and only while that command waits`,
            { field: '--join' },
          ),
        )
      } else {
        reject(
          new MccsError(
            'MCCS_ERR_INVALID',
            `${at} refused the token: it is wrong, already used or expired (mccs node add prints a new one)`,
            { field: '--token' },
          ),
        )
      }
    })
    sock.once('secureConnect', () => {
      clearTimeout(timer)
      sock.removeAllListeners('error')
      if (!pskAuthenticated(sock)) {
        sock.destroy()
        reject(new MccsError('MCCS_ERR_INVALID', `${at} did not prove the token`, { field: '--token' }))
        return
      }
      resolve(sock)
    })
  })
}

export async function joinCluster(b: Bootstrap, o: JoinOptions): Promise<JoinResult> {
  const language = checkLanguage(o.language)
  const token = parseJoinToken(o.token)
  const { host, port } = parseEndpoint(o.address, b.heartbeatPort + JOIN_PORT_OFFSET)
  const have = hostAddresses()
  const given = o.links?.length ? checkLinks(o.links, have) : []
  await refuseConfigured(b)
  const sock = await connect(host, port, token, o.connectTimeoutMs ?? 10_000)
  const conv = new JoinConversation(sock)
  const w = new WrittenFiles()
  let written = false
  try {
    conv.send({ t: 'hello', v: JOIN_VERSION })
    const offer = await conv.expect('offer', STEP_MS, host)
    await checkNodeNameWins(b, offer.node)
    for (const g of given)
      if (!offer.links.some((l) => l.name === g.name))
        throw new MccsError(
          'MCCS_ERR_INVALID',
          `cluster ${offer.cluster} has no link ${g.name} (its links: ${offer.links.map((l) => l.name).join(', ')})`,
          { field: `--link ${g.name}` },
        )
    const addresses: Record<string, string> = {}
    for (const l of offer.links) {
      const g = given.find((x) => x.name === l.name)
      const found = g ? checkOnHost(g.address, `--link ${l.name}`, have) : sameSubnet(l.member, have)?.address
      if (!found) {
        throw new MccsError(
          'MCCS_ERR_INVALID',
          `no address of this host is in the subnet of ${offer.cluster}'s link ${l.name} (member address ${l.member}); give --link ${l.name}=<this host's address on it>`,
          { field: `--link ${l.name}` },
        )
      }
      addresses[l.name] = found
    }
    conv.send({ t: 'join', addresses })
    const gift = await conv.expect('config', STEP_MS, host)
    const hbFile = path.join(b.configDir, HB_FILE)
    // Without a schemaVersion, the member is from before the field: its files are of version 1.
    const hb = validateHb(gift.hb, { file: hbFile, unversioned: 'v1' })
    if (!hb.ok) throw invalidConfigError(hbFile, hb.errors)
    const me = hb.config.nodes.find((n) => n.name === offer.node)
    if (!me || JSON.stringify(me.addresses) !== JSON.stringify(addresses))
      throw new MccsError('MCCS_ERR_PEER_PROTOCOL', 'the member sent an hb.json without this node as asked', { subject: host })
    const main = validateMain(gift.main, { file: path.join(b.configDir, MAIN_FILE), unversioned: 'v1', hb: hb.config })
    if (!main.ok) throw invalidConfigError(path.join(b.configDir, MAIN_FILE), main.errors)
    const key = Buffer.from(String(gift.key), 'base64')
    if (key.length !== CLUSTER_KEY_BYTES)
      throw new MccsError('MCCS_ERR_PEER_PROTOCOL', 'the member sent a cluster key of the wrong size', { subject: host })
    try {
      await w.mkdirs(b.configDir)
      for (const d of [b.stateDir, b.logDir, b.scriptDir]) await w.mkdirs(d)
      await createClusterKey(clusterKeyPath(b.configDir), { key })
      w.note(clusterKeyPath(b.configDir))
      for (const [rel, data] of Object.entries(gift.files ?? {})) {
        const f = path.resolve(b.configDir, rel)
        if (await exists(f))
          throw new MccsError('MCCS_ERR_CONFLICT', `${f} exists already; hb.json names it as a quorum file`, { subject: f })
        await w.create(f, Buffer.from(data, 'base64'), 0o600)
      }
      await w.create(hbFile, JSON.stringify(versionedFile('hb', hb.config), null, 2) + '\n', 0o644)
      await w.create(path.join(b.configDir, MAIN_FILE), JSON.stringify(versionedFile('main', main.config), null, 2) + '\n', 0o644)
      await writeNodeFiles(b, w, offer.node, { language, mode: 'cluster', at: new Date().toISOString(), joinedVia: `${host}:${port}` })
      if (o.license !== undefined) {
        const lic = path.join(b.configDir, LICENSE_FILE)
        if (!(await exists(lic))) w.note(lic)
        await installLicense({ ...b, nodeName: offer.node }, o.license)
      }
    } catch (err) {
      conv.send({ t: 'failed', reason: asSetupError(err).message })
      throw err
    }
    conv.send({ t: 'written' })
    const done = await conv.expect('done', STEP_MS, host)
    written = true
    return {
      node: offer.node,
      cluster: offer.cluster,
      language,
      addresses,
      generation: done.generation,
      live: done.live === true,
      members: hb.config.nodes.map((n) => n.name).filter((n) => n !== offer.node),
    }
  } finally {
    if (!written) await w.rollback()
    conv.close()
  }
}

function asSetupError(err: unknown): MccsError {
  return isMccsError(err) ? err : new MccsError('MCCS_ERR_INTERNAL', String((err as Error)?.message ?? err))
}
