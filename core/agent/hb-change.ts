// A live change of hb.json (issue 16, What 3): what an operator may ask for, checked at the edge (every field
// named with its reason), and the hb.json it makes. Pure apart from the validators of core/config: the
// runtime conditions (is the node to remove still running, is a link the only one a peer is heard on, is an
// address this host's) are checked where they can be known, in hb-sync.ts.
import { isIP } from 'node:net'
import type { HbConfig, HbNode, HbQuorum } from '../config/hb-model.js'

type QuorumServerSettings = NonNullable<HbQuorum['server']>
import type { ConfigPair } from '../config/store.js'
import type { MainConfig } from '../engine/index.js'
import { renameNodeInHb, renameNodeInMain } from '../config/node-rename.js'
import { validateHb, validateMain } from '../config/validate.js'
import { invalidConfigError } from '../config/issue.js'
import { MccsError } from '../errors.js'
import { checkName } from '../setup/first-node.js'
import { DEFAULT_WATCHDOG_MS } from '../cluster/heartbeat-worker-client.js'
import { MAX_NODES } from '../config/schema.js'

export type HbChange =
  | { op: 'setTiming'; intervalMs: number; deadMs: number }
  | { op: 'setQuorum'; fenceDelayMs?: number | null; server?: QuorumServerSettings | null; twoNode?: boolean }
  | { op: 'addLink'; name: string; priority: number; addresses: Record<string, string> }
  | { op: 'removeLink'; name: string }
  | { op: 'addNode'; name: string; addresses: Record<string, string>; fencingLike?: string }
  | { op: 'removeNode'; name: string }
  | { op: 'renameNode'; name: string; newName: string }

export const HB_OPS = ['setTiming', 'setQuorum', 'addLink', 'removeLink', 'addNode', 'removeNode', 'renameNode'] as const

const bad = (field: string, why: string) => new MccsError('MCCS_ERR_INVALID', why, { field })

function int(o: Record<string, unknown>, k: string, min: number, max: number): number {
  const v = o[k]
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max) throw bad(k, `must be an integer from ${min} to ${max}`)
  return v
}

function addressMap(v: unknown, field: string): Record<string, string> {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw bad(field, 'must map names to IP addresses')
  const out: Record<string, string> = {}
  for (const [k, a] of Object.entries(v as Record<string, unknown>)) {
    if (typeof a !== 'string' || !isIP(a)) throw bad(`${field}.${k}`, `'${String(a)}' is not an IP address`)
    out[k] = a
  }
  return out
}

/** The change as asked (REST body, control socket params, peer message): its shape, types and ranges. */
export function checkHbChange(v: unknown): HbChange {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw bad('change', 'must be a JSON object')
  const o = v as Record<string, unknown>
  const op = o.op
  if (op === 'setCluster') throw fixedField('cluster')
  if (op === 'setPort') throw fixedField('port')
  if (typeof op !== 'string' || !(HB_OPS as readonly string[]).includes(op)) throw bad('op', `must be one of ${HB_OPS.join(', ')}`)
  const known: Record<string, string[]> = {
    setTiming: ['intervalMs', 'deadMs'],
    setQuorum: ['fenceDelayMs', 'server', 'twoNode'],
    addLink: ['name', 'priority', 'addresses'],
    removeLink: ['name'],
    addNode: ['name', 'addresses', 'fencingLike'],
    removeNode: ['name'],
    renameNode: ['name', 'newName'],
  }
  for (const k of Object.keys(o)) {
    if (k === 'op' || known[op]!.includes(k)) continue
    // Asked for by name, they get the reason rather than "not a field".
    if (k === 'cluster' || k === 'port') throw fixedField(k)
    throw bad(k, `is not a field of ${op}`)
  }
  switch (op) {
    case 'setTiming': {
      const intervalMs = int(o, 'intervalMs', 20, 10_000)
      // The heartbeat thread's watchdog mutes a node whose main thread hangs for 5 s: a dead time at or above
      // it would let a hung agent's thread keep it "alive".
      const deadMs = int(o, 'deadMs', 60, DEFAULT_WATCHDOG_MS - 1)
      if (deadMs < 2 * intervalMs)
        throw bad('deadMs', `must be at least twice intervalMs (${2 * intervalMs} ms): one late heartbeat must not declare a node dead`)
      return { op, intervalMs, deadMs }
    }
    case 'setQuorum': {
      if (o.fenceDelayMs === undefined && o.server === undefined && o.twoNode === undefined)
        throw bad('change', 'setQuorum needs at least one of fenceDelayMs, server (null: none), twoNode')
      if (o.twoNode !== undefined && typeof o.twoNode !== 'boolean') throw bad('twoNode', 'must be true or false')
      return {
        op,
        ...(o.fenceDelayMs !== undefined ? { fenceDelayMs: o.fenceDelayMs === null ? null : int(o, 'fenceDelayMs', 0, 120_000) } : {}),
        ...(o.server !== undefined ? { server: o.server === null ? null : serverSettings(o.server) } : {}),
        ...(o.twoNode !== undefined ? { twoNode: o.twoNode } : {}),
      }
    }
    case 'addLink':
      return {
        op,
        name: checkName(o.name as string, 'name', "the link's name"),
        priority: int(o, 'priority', 0, 1000),
        addresses: addressMap(o.addresses, 'addresses'),
      }
    case 'removeLink':
    case 'removeNode':
      if (typeof o.name !== 'string' || !o.name) throw bad('name', 'must be a name')
      return { op, name: o.name }
    case 'renameNode': {
      if (typeof o.name !== 'string' || !o.name) throw bad('name', 'must name the node to rename')
      const newName = checkName(o.newName as string, 'newName', "the node's new name")
      if (newName === o.name) throw bad('newName', `is the node's name already (${newName}): give another`)
      return { op, name: o.name, newName }
    }
    case 'addNode':
      if (o.fencingLike !== undefined && typeof o.fencingLike !== 'string') throw bad('fencingLike', 'must be a node name')
      return {
        op,
        name: checkName(o.name as string, 'name', "the new node's name"),
        addresses: addressMap(o.addresses, 'addresses'),
        ...(typeof o.fencingLike === 'string' ? { fencingLike: o.fencingLike } : {}),
      }
  }
  throw bad('op', `must be one of ${HB_OPS.join(', ')}`)
}

/** Why the cluster name and the heartbeat port are not among the live changes (asked for as an op, or as a
 *  field of one): both are in every heartbeat packet and checked by every receiver, so between two nodes'
 *  commits each would drop the other's heartbeats as another cluster's (or never receive them) and both
 *  would be fenced or self-fenced. */
export function fixedField(field: 'cluster' | 'port'): MccsError {
  return new MccsError(
    'MCCS_ERR_INVALID',
    field === 'cluster'
      ? "the cluster name cannot change in a running cluster: it is in every heartbeat and every quorum server login, and nodes with different names do not hear each other; stop every node's agent, change it in hb.json on each, and start them again"
      : "the heartbeat port cannot change in a running cluster: nodes on different ports do not hear each other, so the nodes would fence each other between two commits; stop every node's agent, change it in hb.json on each, and start them again",
    { field },
  )
}

function serverPort(v: unknown): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1 || v > 65_535)
    throw bad('server.port', 'must be an integer from 1 to 65535')
  return v
}

/** The quorum server as asked: the shape hb.json takes (its files are read by each member at prepare). */
function serverSettings(v: unknown): QuorumServerSettings {
  if (!v || typeof v !== 'object' || Array.isArray(v)) throw bad('server', 'must be {host, port?, servername?, caFile, keyFile} or null')
  const o = v as Record<string, unknown>
  for (const k of Object.keys(o))
    if (!['host', 'port', 'servername', 'caFile', 'keyFile'].includes(k)) throw bad(`server.${k}`, 'is not a field of server')
  const str = (k: string, max: number, what: string): string => {
    const x = o[k]
    if (typeof x !== 'string' || !x.trim() || x.length > max || /[\s\0]/.test(x)) throw bad(`server.${k}`, `must be ${what}`)
    return x
  }
  const host = str('host', 253, "the quorum server's address (an IP address or a host name)")
  if (!isIP(host) && !/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(host))
    throw bad('server.host', `'${host}' is neither an IP address nor a host name`)
  return {
    host,
    ...(o.port !== undefined ? { port: serverPort(o.port) } : {}),
    ...(o.servername !== undefined ? { servername: str('servername', 253, 'the name on the server certificate') } : {}),
    caFile: str('caFile', 4096, "the quorum server's CA certificate file (relative to the config folder, or absolute)"),
    keyFile: str('keyFile', 4096, "the cluster's quorum key file as add-cluster printed it (relative to the config folder, or absolute)"),
  }
}

/** Two-node mode follows the node count when no quorum server decides (as `mccs node add` sets it). */
function twoNodeFollows(next: HbConfig): void {
  const q = { ...(next.quorum ?? {}) }
  if (!q.server) {
    if (next.nodes.length === 2) q.twoNode = true
    else delete q.twoNode
  }
  if (Object.keys(q).length) next.quorum = q
  else delete next.quorum
}

function addressUser(hb: HbConfig, a: string): HbNode | undefined {
  return hb.nodes.find((n) => Object.values(n.addresses).includes(a))
}

/** The hb.json the change makes from the one in force (generation + 1), validated with main.json. */
export function applyHbChange(cur: ConfigPair, c: HbChange, file: string): HbConfig {
  return applyChange(cur, c, file).hb
}

/** The pair a change makes: hb.json (generation + 1) and, for a rename, main.json (generation + 1) too. */
export function applyChange(cur: ConfigPair, c: HbChange, file: string): { hb: HbConfig; main?: MainConfig } {
  const next = structuredClone(cur.hb) as HbConfig
  next.generation = cur.hb.generation + 1
  const link = (name: string) => next.links.find((l) => l.name === name)
  const node = (name: string) => next.nodes.find((n) => n.name === name)
  switch (c.op) {
    case 'setTiming':
      next.timing = { intervalMs: c.intervalMs, deadMs: c.deadMs }
      break
    case 'setQuorum': {
      const q: HbQuorum = { ...(next.quorum ?? {}) }
      if (c.fenceDelayMs === null) delete q.fenceDelayMs
      else if (c.fenceDelayMs !== undefined) q.fenceDelayMs = c.fenceDelayMs
      if (c.server) {
        // The server breaks the tie from now on: two-node mode goes (asked for together: refused below).
        q.server = { ...c.server }
        if (c.twoNode === undefined) delete q.twoNode
      } else if (c.server === null) delete q.server
      if (c.twoNode === true) q.twoNode = true
      else if (c.twoNode === false) delete q.twoNode
      else if (c.server === null && next.nodes.length === 2) q.twoNode = true // as `mccs node add` sets it
      if (q.twoNode && q.server) throw bad('twoNode', 'cannot be combined with a quorum server: the server breaks the tie; choose one')
      if (q.twoNode && next.nodes.length !== 2)
        throw bad('twoNode', `two-node mode is for two nodes; this cluster has ${next.nodes.length}`)
      next.quorum = q
      if (!Object.keys(q).length) delete next.quorum
      break
    }
    case 'addLink': {
      if (link(c.name)) throw new MccsError('MCCS_ERR_CONFLICT', `the cluster already has a link ${c.name}`, { field: 'name' })
      for (const k of Object.keys(c.addresses))
        if (!node(k)) throw bad(`addresses.${k}`, `the cluster has no node ${k} (its nodes: ${next.nodes.map((n) => n.name).join(', ')})`)
      const seen = new Set<string>()
      for (const n of next.nodes) {
        const a = c.addresses[n.name]
        if (!a) throw bad(`addresses.${n.name}`, `needs node ${n.name}'s address on link ${c.name}`)
        const user = addressUser(next, a)
        if (user || seen.has(a))
          throw new MccsError('MCCS_ERR_CONFLICT', `${a} is already node ${user?.name ?? 'another'}'s address`, {
            field: `addresses.${n.name}`,
          })
        seen.add(a)
      }
      next.links.push({ name: c.name, priority: c.priority })
      for (const n of next.nodes) n.addresses[c.name] = c.addresses[n.name]!
      break
    }
    case 'removeLink': {
      if (!link(c.name)) throw new MccsError('MCCS_ERR_NOT_FOUND', `the cluster has no link ${c.name}`, { field: 'name' })
      if (next.links.length === 1)
        throw new MccsError('MCCS_ERR_CONFLICT', `${c.name} is the only heartbeat link: a cluster needs one`, { field: 'name' })
      next.links = next.links.filter((l) => l.name !== c.name)
      for (const n of next.nodes) {
        delete n.addresses[c.name]
        if (!Object.keys(n.addresses).length)
          throw new MccsError('MCCS_ERR_CONFLICT', `node ${n.name} has no address on any other link`, { field: 'name' })
      }
      break
    }
    case 'addNode': {
      if (node(c.name))
        throw new MccsError('MCCS_ERR_CONFLICT', `node name ${c.name} is already taken in cluster ${next.cluster}`, { field: 'name' })
      if (next.nodes.length >= MAX_NODES)
        throw new MccsError('MCCS_ERR_CONFLICT', `a cluster has at most ${MAX_NODES} nodes`, { field: 'name' })
      for (const k of Object.keys(c.addresses))
        if (!link(k)) throw bad(`addresses.${k}`, `the cluster has no link ${k} (its links: ${next.links.map((l) => l.name).join(', ')})`)
      for (const l of next.links) {
        const a = c.addresses[l.name]
        if (!a) throw bad(`addresses.${l.name}`, `needs the new node's address on link ${l.name}`)
        const user = addressUser(next, a)
        if (user) throw new MccsError('MCCS_ERR_CONFLICT', `${a} is node ${user.name}'s address`, { field: `addresses.${l.name}` })
      }
      const like = c.fencingLike === undefined ? undefined : node(c.fencingLike)
      if (c.fencingLike !== undefined && !like) throw bad('fencingLike', `the cluster has no node ${c.fencingLike}`)
      next.nodes.push({
        name: c.name,
        addresses: { ...c.addresses },
        ...(like?.fencing ? { fencing: structuredClone(like.fencing) } : {}),
      })
      twoNodeFollows(next)
      break
    }
    case 'removeNode': {
      if (!node(c.name)) throw new MccsError('MCCS_ERR_NOT_FOUND', `the cluster has no node ${c.name}`, { field: 'name' })
      if (next.nodes.length <= 2)
        throw new MccsError(
          'MCCS_ERR_CONFLICT',
          'a cluster keeps at least two nodes (a single node is set up with mccs setup --mode single)',
          {
            field: 'name',
          },
        )
      next.nodes = next.nodes.filter((n) => n.name !== c.name)
      twoNodeFollows(next)
      break
    }
    case 'renameNode': {
      const n = node(c.name)
      if (!n)
        throw new MccsError(
          'MCCS_ERR_NOT_FOUND',
          `the cluster has no node ${c.name} (its nodes: ${next.nodes.map((x) => x.name).join(', ')})`,
          {
            field: 'name',
          },
        )
      if (node(c.newName))
        throw new MccsError('MCCS_ERR_CONFLICT', `node name ${c.newName} is already taken in cluster ${next.cluster}`, { field: 'newName' })
      next.nodes = renameNodeInHb(next, c.name, c.newName).nodes
      break
    }
  }
  const v = validateHb(next, { file })
  if (!v.ok) throw invalidConfigError(file, v.errors)
  const main = c.op === 'renameNode' ? { ...renameNodeInMain(cur.main, c.name, c.newName), generation: cur.main.generation + 1 } : undefined
  const m = validateMain(main ?? cur.main, { file, hb: v.config })
  if (!m.ok) throw invalidConfigError(file, m.errors)
  return main ? { hb: v.config, main: m.config } : { hb: v.config }
}

/** In words, for the operation log and answers. */
export function describeHbChange(c: HbChange): string {
  switch (c.op) {
    case 'setTiming':
      return `heartbeat timing ${c.intervalMs} / ${c.deadMs} ms`
    case 'setQuorum': {
      const parts: string[] = []
      if (c.server) parts.push(`quorum server ${c.server.host}${c.server.port ? `:${c.server.port}` : ''}`)
      else if (c.server === null) parts.push('no quorum server')
      if (c.twoNode !== undefined) parts.push(`two-node mode ${c.twoNode ? 'on' : 'off'}`)
      if (c.fenceDelayMs !== undefined) parts.push(`fence delay ${c.fenceDelayMs === null ? 'default' : `${c.fenceDelayMs} ms`}`)
      return parts.join(', ')
    }
    case 'addLink':
      return `link ${c.name} added (${Object.entries(c.addresses)
        .map(([n, a]) => `${n}=${a}`)
        .join(', ')})`
    case 'removeLink':
      return `link ${c.name} removed`
    case 'addNode':
      return `node ${c.name} added (${Object.entries(c.addresses)
        .map(([l, a]) => `${l}=${a}`)
        .join(', ')})`
    case 'removeNode':
      return `node ${c.name} removed`
    case 'renameNode':
      return `node ${c.name} renamed ${c.newName}`
  }
}
