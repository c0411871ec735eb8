// The operator's mirror commands on one node (mccs mirror ..., the control socket's 'mirror' method):
// status of both sides, verify, full resync, split-brain resolve, permission to force a promotion.
// The other side is reached over the agents' peer channel (core/mirror/peer.ts).
import { MccsError } from '../errors.js'
import type { MirrorManager } from './manager.js'
import { verifyVolumes, type VerifyReport } from './verify.js'
import type { VolumeStatus } from './volume.js'

export const MIRROR_OPS = ['status', 'verify', 'resync', 'resolve', 'primary'] as const
export type MirrorOp = (typeof MIRROR_OPS)[number]

/** Sends one mirror message to the node holding the other copy of `resource`. */
export type PeerRequest = (resource: string, msg: { t: string; [k: string]: unknown }, timeoutMs: number) => Promise<unknown>

const RES_RE = /^[A-Za-z0-9_.:@-]{1,128}$/
const invalid = (field: string, reason: string): MccsError => new MccsError('MCCS_ERR_INVALID', reason, { field })

export interface MirrorSides {
  resource: string
  local: VolumeStatus
  peer: VolumeStatus | { error: string }
}

export async function mirrorControl(mm: MirrorManager, p: Record<string, unknown>): Promise<unknown> {
  const peer: PeerRequest | undefined = mm.peerRequest
  const op = p.op
  if (typeof op !== 'string' || !(MIRROR_OPS as readonly string[]).includes(op))
    throw invalid('params.op', `must be one of ${MIRROR_OPS.join(', ')}`)
  if (p.resource !== undefined && (typeof p.resource !== 'string' || !RES_RE.test(p.resource)))
    throw invalid('params.resource', 'must be a resource name')
  const name = p.resource as string | undefined
  const vol = (r: string) => {
    const v = mm.known(r)
    if (!v) throw new MccsError('MCCS_ERR_NOT_FOUND', `no mirror-disk resource ${r} on this node`, { subject: r, field: 'params.resource' })
    return v
  }
  const ask = async <T>(r: string, msg: { t: string; [k: string]: unknown }, timeoutMs: number): Promise<T> => {
    if (!peer) throw new MccsError('MCCS_ERR_PEER_UNREACHABLE', 'no cluster channel on this node', { subject: r })
    return (await peer(r, { ...msg, resource: r }, timeoutMs)) as T
  }
  switch (op as MirrorOp) {
    case 'status': {
      // With no name: the volumes with a copy on this node.
      const list = name ? [name] : mm.resources().filter((r) => mm.known(r) !== null)
      const out: MirrorSides[] = []
      for (const r of list) {
        const local = await vol(r).status()
        const other = await ask<VolumeStatus>(r, { t: 'mirrorStatus' }, 5000).catch((e: unknown) => ({ error: (e as Error).message }))
        out.push({ resource: r, local, peer: other })
      }
      return out
    }
    case 'verify': {
      if (!name) throw invalid('params.resource', 'is required')
      const report: VerifyReport = await verifyVolumes(vol(name), (chunk, indexes) =>
        ask(name, { t: 'mirrorChecksums', chunk, indexes }, 60_000),
      )
      return { resource: name, ...report, equal: report.differing.length === 0 && !report.sizes }
    }
    case 'resync': {
      if (!name) throw invalid('params.resource', 'is required')
      return vol(name).fullResync()
    }
    case 'resolve': {
      if (!name) throw invalid('params.resource', 'is required')
      if (typeof p.discard !== 'string' || !RES_RE.test(p.discard))
        throw invalid('params.discard', 'must name the node whose data is discarded')
      const here = vol(name).c.node
      // The discarded side first: it refuses while primary, and then nothing has changed anywhere.
      if (p.discard === here) {
        const d = await vol(name).resolve('discard')
        const k = await ask(name, { t: 'mirrorResolve', side: 'keep' }, 10_000)
        return { resource: name, discarded: d, kept: k }
      }
      const d = await ask(name, { t: 'mirrorResolve', side: 'discard' }, 10_000)
      const k = await vol(name).resolve('keep')
      return { resource: name, discarded: d, kept: k }
    }
    case 'primary': {
      if (!name) throw invalid('params.resource', 'is required')
      if (p.force !== true)
        throw invalid('params.force', 'must be true: this only ever forces a promotion over data not known to be current')
      if (typeof p.user !== 'string' || !p.user) throw invalid('params.user', 'must name the user')
      return vol(name).allowForcedPromotion(p.user)
    }
  }
}
