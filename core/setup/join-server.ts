// `mccs node add <name>` on a member: the member's side of a join. It prints a one-time token, listens on
// this node's heartbeat addresses (port: heartbeat + 5) for the new host's `mccs setup --join`, hands it
// the cluster key and the configuration inside the token's TLS-PSK channel, and once the new host has
// written them, writes this member's hb.json with the new node (generation + 1, validated, atomic, the
// old one kept as hb.json.prev). A join that is refused (a name taken meanwhile, an address in use) can be
// retried with the same token; the first join that completes uses it up, and the listener closes.
//
// With the member's agent running in a cluster, the new node is added by a live hb.json change through the
// coordinator (commit option: every member takes it at once, no restart). Otherwise (no agent, or a single
// node growing to two) the member's file is written and the agents take it at their next start.
import tls from 'node:tls'
import { readFile } from 'node:fs/promises'
import { isIP } from 'node:net'
import path from 'node:path'
import type { Bootstrap } from '../config/bootstrap.js'
import { ConfigStore, type ConfigPair } from '../config/store.js'
import { validateHb, validateMain } from '../config/validate.js'
import { invalidConfigError } from '../config/issue.js'
import { versionedFile } from '../config/schema-version.js'
import { MAX_NODES } from '../config/schema.js'
import type { HbConfig, HbNode } from '../config/hb-model.js'
import { clusterKeyPath, loadClusterKey } from '../cluster/cluster-key.js'
import { pskAuthenticated, pskServerOptions } from '../cluster/tls.js'
import { MccsError, isMccsError } from '../errors.js'
import { JOIN_VERSION, JoinConversation } from './join-protocol.js'
import { JOIN_PORT_OFFSET, joinIdentity, joinPsk, newJoinToken, type JoinToken } from './join-token.js'
import { checkName } from './first-node.js'
import { readSetupRecord } from './node-files.js'

const STEP_MS = 30_000

export interface JoinOffered {
  token: string
  node: string
  cluster: string
  listen: string[]
  port: number
}
export interface JoinDone {
  node: string
  addresses: Record<string, string>
  generation: number
  /** Taken into the running cluster at once (a live hb.json change), not only written to this member's file. */
  live: boolean
  others: string[]
}

export interface NodeAddOptions {
  b: Bootstrap
  name: string
  timeoutMs: number
  /** Called once the listener is up, with the token to hand to the new host. */
  offered(o: JoinOffered): void
  /** Progress and refusals, for the operator's terminal. */
  say?(msg: string): void
  /** A token given by the caller (tests); a fresh one otherwise. */
  token?: JoinToken
  /** Takes the new node into the running cluster (the agent's live hb.json change through the coordinator,
   *  issue 16, What 3) and answers the generation in force; without it, this member's hb.json file is written
   *  and the agents take it at their next start. */
  commit?: (node: HbNode, expectGeneration: number) => Promise<number>
}

/** Checks the name can be added (before any token exists): valid, free, and a cluster-mode node. */
export async function checkNodeAdd(b: Bootstrap, name: string): Promise<ConfigPair> {
  checkName(name, 'name', "the new node's name")
  const store = new ConfigStore(b.configDir)
  const cur = await store.load()
  const rec = await readSetupRecord(b.configDir)
  if (rec?.mode === 'single') {
    throw new MccsError(
      'MCCS_ERR_CONFLICT',
      'this node was set up as a single-node cluster (mccs setup --mode single): it takes no other node',
      { subject: b.nodeName },
    )
  }
  if (!cur.hb.nodes.some((n) => n.name === b.nodeName))
    throw new MccsError('MCCS_ERR_HB_CONFIG', `this node (${b.nodeName}) is not in hb.json`, { field: '/nodes' })
  if (cur.hb.nodes.some((n) => n.name === name))
    throw new MccsError('MCCS_ERR_CONFLICT', `node name ${name} is already taken in cluster ${cur.hb.cluster}`, {
      field: 'name',
      subject: name,
    })
  if (cur.hb.nodes.length >= MAX_NODES)
    throw new MccsError('MCCS_ERR_CONFLICT', `a cluster has at most ${MAX_NODES} nodes`, { field: 'name' })
  return cur
}

/** hb.json with the new node: generation + 1, two-node quorum mode set for a second node without a quorum
 *  server (and dropped for a third, where a majority decides). Validated with main.json. */
export function hbWithNode(cur: ConfigPair, node: HbNode, file: string): HbConfig {
  const next = structuredClone(cur.hb) as HbConfig
  next.generation = cur.hb.generation + 1
  next.nodes.push(node)
  const q = { ...(next.quorum ?? {}) }
  if (next.nodes.length === 2 && !q.server) q.twoNode = true
  if (next.nodes.length > 2) delete q.twoNode
  if (Object.keys(q).length) next.quorum = q
  else delete next.quorum
  const v = validateHb(next, { file })
  if (!v.ok) throw invalidConfigError(file, v.errors)
  const m = validateMain(cur.main, { file, hb: v.config })
  if (!m.ok) throw invalidConfigError(file, m.errors)
  return v.config
}

/** The new node's addresses as the joiner proposes them: every link, IP addresses, none in use. */
export function checkJoinAddresses(hb: HbConfig, addresses: unknown): Record<string, string> {
  if (!addresses || typeof addresses !== 'object' || Array.isArray(addresses))
    throw new MccsError('MCCS_ERR_INVALID', 'must map each link to an address', { field: 'addresses' })
  const a = addresses as Record<string, unknown>
  for (const k of Object.keys(a))
    if (!hb.links.some((l) => l.name === k))
      throw new MccsError('MCCS_ERR_INVALID', `the cluster has no link ${k} (its links: ${hb.links.map((l) => l.name).join(', ')})`, {
        field: `addresses.${k}`,
      })
  for (const l of hb.links) {
    const v = a[l.name]
    if (typeof v !== 'string' || !isIP(v))
      throw new MccsError('MCCS_ERR_INVALID', `needs this host's IP address on link ${l.name}`, { field: `addresses.${l.name}` })
    const user = hb.nodes.find((n) => Object.values(n.addresses).includes(v))
    if (user) throw new MccsError('MCCS_ERR_CONFLICT', `${v} is node ${user.name}'s address`, { field: `addresses.${l.name}` })
  }
  return Object.fromEntries(hb.links.map((l) => [l.name, a[l.name] as string]))
}

/** Files hb.json names that a node needs too (the quorum server's CA and the cluster's quorum key). */
async function sharedFiles(hb: HbConfig, configDir: string): Promise<Record<string, string>> {
  const s = hb.quorum?.server
  const out: Record<string, string> = {}
  for (const f of s ? [s.caFile, s.keyFile] : []) out[f] = (await readFile(path.resolve(configDir, f))).toString('base64')
  return out
}

export async function offerJoin(o: NodeAddOptions): Promise<JoinDone> {
  const { b } = o
  const first = await checkNodeAdd(b, o.name)
  const self = first.hb.nodes.find((n) => n.name === b.nodeName)!
  const key = await loadClusterKey(clusterKeyPath(b.configDir))
  const token = o.token ?? newJoinToken()
  const port = first.hb.port + JOIN_PORT_OFFSET
  const ordered = [...first.hb.links]
    .sort((x, y) => x.priority - y.priority)
    .map((l) => self.addresses[l.name])
    .filter((x): x is string => !!x)
  const listen = [...new Set(ordered)]
  const servers: tls.Server[] = []
  let busy = false
  let finish!: (r: JoinDone) => void
  let fail!: (e: Error) => void
  const result = new Promise<JoinDone>((res, rej) => {
    finish = res
    fail = rej
  })

  const serve = async (sock: tls.TLSSocket): Promise<void> => {
    if (!pskAuthenticated(sock)) {
      sock.destroy()
      return
    }
    const conv = new JoinConversation(sock)
    const from = sock.remoteAddress ?? '?'
    try {
      const hello = await conv.expect('hello', STEP_MS, from)
      if (hello.v !== JOIN_VERSION)
        throw new MccsError(
          'MCCS_ERR_PEER_PROTOCOL',
          `join protocol ${hello.v} is not ${JOIN_VERSION}: install the same MCCS version on the new host`,
          { field: 'v' },
        )
      if (busy) throw new MccsError('MCCS_ERR_CONFLICT', 'another join with this token is in progress')
      busy = true
      try {
        const store = new ConfigStore(b.configDir)
        let cur = await store.load() // read again: the agent may have changed main.json since the token was made
        conv.send({
          t: 'offer',
          cluster: cur.hb.cluster,
          node: o.name,
          port: cur.hb.port,
          links: [...cur.hb.links]
            .sort((x, y) => x.priority - y.priority)
            .map((l) => ({ name: l.name, priority: l.priority, member: self.addresses[l.name] ?? '' })),
        })
        const join = await conv.expect('join', STEP_MS, from)
        cur = await store.load()
        if (cur.hb.nodes.some((n) => n.name === o.name))
          throw new MccsError('MCCS_ERR_CONFLICT', `node name ${o.name} is already taken in cluster ${cur.hb.cluster}`, {
            field: 'name',
            subject: o.name,
          })
        const addresses = checkJoinAddresses(cur.hb, join.addresses)
        const next = hbWithNode(cur, { name: o.name, addresses }, store.hbPath)
        // As files are: with their schema versions, so a joiner that cannot read them refuses them.
        conv.send({
          t: 'config',
          hb: versionedFile('hb', next),
          main: versionedFile('main', cur.main),
          key: key.toString('base64'),
          files: await sharedFiles(cur.hb, b.configDir),
        })
        const written = await conv.next(STEP_MS)
        if (written?.t !== 'written') {
          throw new MccsError(
            'MCCS_ERR_CONFLICT',
            `the new host did not write the configuration${written?.t === 'failed' ? `: ${written.reason}` : ''}; nothing changed here`,
            { subject: from },
          )
        }
        const generation = o.commit
          ? await o.commit({ name: o.name, addresses }, cur.hb.generation)
          : (await store.commitHb(next, { expectGeneration: cur.hb.generation })).generation
        conv.send({ t: 'done', generation, ...(o.commit ? { live: true } : {}) })
        conv.close()
        finish({
          node: o.name,
          addresses,
          generation,
          live: !!o.commit,
          others: cur.hb.nodes.map((n) => n.name).filter((n) => n !== b.nodeName),
        })
      } finally {
        busy = false
      }
    } catch (err) {
      const e = asSetupError(err)
      o.say?.(`join from ${from} refused: ${e.message}`)
      conv.send({ t: 'refused', code: e.code, ...(e.field ? { field: e.field } : {}), reason: e.reason })
      conv.close()
    }
  }

  try {
    for (const host of listen) {
      const server = tls.createServer(
        pskServerOptions((id) => (id === joinIdentity(token) ? joinPsk(token) : null), 10_000),
        (s) => {
          void serve(s)
        },
      )
      server.on('tlsClientError', (err: Error & { code?: string }, s: tls.TLSSocket) => {
        o.say?.(`join attempt from ${s.remoteAddress ?? '?'} refused: it does not hold this token (${err.code ?? err.message})`)
      })
      await new Promise<void>((resolve, reject) => {
        server.once('error', (e: NodeJS.ErrnoException) =>
          reject(
            new MccsError('MCCS_ERR_CONFLICT', `cannot listen for the join on ${host}:${port}: ${e.code ?? e.message}`, {
              field: 'listen',
              cause: e,
            }),
          ),
        )
        server.listen(port, host, () => resolve())
      })
      servers.push(server)
    }
    o.offered({ token: token.text, node: o.name, cluster: first.hb.cluster, listen, port })
    const timer = setTimeout(
      () =>
        fail(
          new MccsError(
            'MCCS_ERR_PEER_TIMEOUT',
            `no new host joined within ${Math.round(o.timeoutMs / 1000)} s; the token is void (run mccs node add again)`,
            { subject: o.name },
          ),
        ),
      o.timeoutMs,
    )
    try {
      return await result
    } finally {
      clearTimeout(timer)
    }
  } finally {
    await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))))
  }
}

function asSetupError(err: unknown): MccsError {
  return isMccsError(err) ? err : new MccsError('MCCS_ERR_INTERNAL', String((err as Error)?.message ?? err))
}
