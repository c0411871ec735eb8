// The mirror's messages between agents over the authenticated peer channel (not the replication link):
// a primary that lost the replication link outdates its peer here before it writes alone (DRBD's
// fence-peer), and the CLI of one node reads the other node's side (status, checksums for verify).
import { MccsError } from '../errors.js'
import type { PeerRecord } from './meta.js'
import type { MirrorManager, MirrorAttrs } from './manager.js'
import { resolveAttrs, type MainConfig } from '../engine/index.js'

export type MirrorMessage =
  | { t: 'mirrorOutdate'; resource: string; rec: PeerRecord }
  | { t: 'mirrorStatus'; resource: string }
  | { t: 'mirrorChecksums'; resource: string; chunk: number; indexes: number[] }
  | { t: 'mirrorResolve'; resource: string; side: 'keep' | 'discard' }

/** What of the agents' peer protocol this needs (core/agent/peer-rpc.ts PeerRpc). */
export interface PeerLink {
  serve(handlers: Record<string, (from: string, m: never) => unknown>): void
  request<T>(node: string, msg: { t: string; [field: string]: unknown }, timeoutMs: number): Promise<T>
}

const RES_RE = /^[A-Za-z0-9_.:@-]{1,128}$/
const checkResource = (r: unknown): string => {
  if (typeof r !== 'string' || !RES_RE.test(r)) throw new MccsError('MCCS_ERR_INVALID', 'must be a resource name', { field: 'resource' })
  return r
}

export function serveMirror(rpc: PeerLink, mm: MirrorManager): void {
  rpc.serve({
    // The sender is the primary that lost us: the record says so whatever it claims (`by` = from).
    mirrorOutdate: (from: string, m: Extract<MirrorMessage, { t: 'mirrorOutdate' }>) =>
      mm.markOutdated(checkResource(m.resource), { ...(m.rec ?? {}), by: from } as PeerRecord),
    mirrorStatus: async (_from: string, m: Extract<MirrorMessage, { t: 'mirrorStatus' }>) => {
      const v = mm.known(checkResource(m.resource))
      if (!v) throw new MccsError('MCCS_ERR_NOT_FOUND', `no mirror volume ${m.resource} here`, { subject: m.resource })
      return v.status()
    },
    mirrorChecksums: async (_from: string, m: Extract<MirrorMessage, { t: 'mirrorChecksums' }>) => {
      const v = mm.known(checkResource(m.resource))
      if (!v) throw new MccsError('MCCS_ERR_NOT_FOUND', `no mirror volume ${m.resource} here`, { subject: m.resource })
      return v.checksums(m.chunk, m.indexes)
    },
    // An operator's resolve on the other node (mccs mirror resolve): this side keeps or discards.
    mirrorResolve: async (_from: string, m: Extract<MirrorMessage, { t: 'mirrorResolve' }>) => {
      const v = mm.known(checkResource(m.resource))
      if (!v) throw new MccsError('MCCS_ERR_NOT_FOUND', `no mirror volume ${m.resource} here`, { subject: m.resource })
      return v.resolve(m.side)
    },
  } as Record<string, (from: string, m: never) => unknown>)
}

/** One message to the first of `nodes` that answers (the resource's other node). */
export async function requestPeers(
  rpc: PeerLink | undefined,
  nodes: string[],
  msg: { t: string; resource: string; [k: string]: unknown },
  timeoutMs: number,
): Promise<unknown> {
  if (!rpc) throw new MccsError('MCCS_ERR_PEER_UNREACHABLE', 'no cluster channel on this node', { subject: msg.resource })
  const errors: string[] = []
  for (const n of nodes) {
    try {
      return await rpc.request(n, msg, timeoutMs)
    } catch (e) {
      errors.push(`${n}: ${(e as Error).message}`)
    }
  }
  throw new MccsError(
    'MCCS_ERR_PEER_UNREACHABLE',
    `the other node of ${msg.resource} did not answer (${errors.join('; ') || 'no other node'})`,
    { subject: msg.resource },
  )
}

/** The other nodes of a mirror-disk resource's group (where its peer copy lives). */
export function mirrorPeersOf(config: MainConfig | undefined, resource: string, self: string): string[] {
  const r = config?.resources.find((x) => x.name === resource)
  return config?.groups.find((g) => g.name === r?.group)?.nodes.filter((n) => n !== self) ?? []
}

/** A mirror-disk resource's attributes on this node, or null. */
export function mirrorAttrsOf(config: MainConfig | undefined, resource: string, self: string): { node: string; attrs: MirrorAttrs } | null {
  const r = config?.resources.find((x) => x.name === resource && x.type === 'mirror-disk')
  // A node outside the resource's group holds no copy: no volume here (not a volume with no attributes).
  const g = r ? config?.groups.find((x) => x.name === r.group) : undefined
  if (!r || (g && !g.nodes.includes(self))) return null
  return { node: self, attrs: resolveAttrs(r, self) as MirrorAttrs }
}

/** The mirror-disk resources of the configuration. */
export const mirrorResourcesOf = (config: MainConfig | undefined): string[] =>
  config?.resources.filter((r) => r.type === 'mirror-disk').map((r) => r.name) ?? []

/** Every other resource's mount point on `self` (any type whose attributes name one). */
export function mountPointsOf(
  config: MainConfig | undefined,
  except: string,
  self: string,
): Array<{ resource: string; mountPoint: string }> {
  const out: Array<{ resource: string; mountPoint: string }> = []
  for (const r of config?.resources ?? []) {
    if (r.name === except) continue
    const a = resolveAttrs(r, self)
    for (const k of ['mountPoint', 'mountpoint', 'mount_point', 'mountDir'])
      if (typeof a[k] === 'string' && (a[k] as string).startsWith('/')) out.push({ resource: r.name, mountPoint: a[k] as string })
  }
  return out
}
