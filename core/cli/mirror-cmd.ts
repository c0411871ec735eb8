// mccs mirror status|verify|resync|resolve|primary: the mirror disks' replication (issue 15), asked of
// this node's agent; the other copy's side comes over the agents' peer channel.
import { currentUser } from './user.js'
import { rpc } from './control-client.js'
import { EXIT } from './exit-codes.js'
import type { CliIO } from './io.js'
import type { VolumeStatus } from '../mirror/volume.js'
import type { MirrorSides } from '../mirror/control.js'
import type { VerifyReport } from '../mirror/verify.js'

export const MIRROR_USAGE = `usage: mccs mirror status [<resource>] [--json]
       mccs mirror verify <resource>            compare both copies (checksums per 1 MiB), report differing ranges
       mccs mirror resync <resource>            on the primary: send the whole volume to the peer again
       mccs mirror resolve <resource> --discard <node>   end a split brain: <node>'s data is replaced by the other's
       mccs mirror primary <resource> --force   allow the next promotion here over data not known to be current`

const mib = (b: number | null | undefined): string => (b == null ? '-' : `${(b / 1048576).toFixed(1)} MiB`)

/** One line per side: DRBD-like disk and connection states. */
export function describeSide(s: VolumeStatus | { error: string }): string {
  if ('error' in s) return `unreachable (${s.error})`
  const rec = s.peerRecord
  const disk = s.role === 'primary' ? 'UpToDate' : rec?.state === 'SyncTarget' ? 'Inconsistent' : (rec?.state ?? 'unknown')
  const r = s.replication
  let conn = s.role === 'primary' ? (r?.state ?? 'Unknown') : s.role === 'secondary' ? 'Secondary' : 'Down'
  if (r?.state === 'SyncSource' && r.resync) {
    conn += ` ${r.percent ?? 0} % (${r.resync.mode}, ${mib(r.resync.done)} of ${mib(r.resync.bytes)}${r.resync.rateBps ? `, ${mib(r.resync.rateBps)}/s, ETA ${r.resync.etaS} s` : ''})`
  }
  if (r?.state === 'Suspended' && r.suspended) conn += ` since ${r.suspended.since}: ${r.suspended.reason}`
  const gen = s.generation?.current ?? '-'
  const parts = [`${s.node}: ${s.role}`, `disk ${disk}`, conn, `generation ${gen}`]
  if (s.role === 'primary') parts.push(`dirty ${mib(s.dirtyBytes)}`)
  if (s.attached) parts.push(`attached ${s.attached.device}${s.attached.ok ? '' : ' (broken)'}`)
  if (s.splitBrain)
    parts.push(
      `SPLIT BRAIN: ${s.splitBrain.local.node} generation ${s.splitBrain.local.generation} (${mib(s.splitBrain.local.dirtyBytes)} written alone) vs ${s.splitBrain.peer.node ?? '?'} generation ${s.splitBrain.peer.generation} (${mib(s.splitBrain.peer.dirtyBytes)}): mccs mirror resolve ${s.resource} --discard <node>`,
    )
  return parts.join(', ')
}

export async function mirrorCommand(
  args: string[],
  o: { socket: string; json: boolean; force: boolean; discard?: string },
  io: CliIO,
): Promise<number> {
  const [op, resource, ...extra] = args
  const usage = (): number => {
    io.err(MIRROR_USAGE)
    return EXIT.USAGE
  }
  if (!op || extra.length || !['status', 'verify', 'resync', 'resolve', 'primary'].includes(op)) return usage()
  if (op !== 'status' && !resource) return usage()
  if (op === 'resolve' && !o.discard) {
    io.err('mccs mirror resolve: --discard <node> is required (the node whose data is replaced)')
    return EXIT.USAGE
  }
  if (op === 'primary' && !o.force) {
    io.err('mccs mirror primary: --force is required (this only ever forces a promotion over data not known to be current)')
    return EXIT.USAGE
  }
  let out: unknown
  try {
    out = await rpc(
      o.socket,
      'mirror',
      {
        op,
        ...(resource ? { resource } : {}),
        ...(o.discard ? { discard: o.discard } : {}),
        ...(op === 'primary' ? { force: true, user: currentUser() } : {}),
      },
      15 * 60_000,
    )
  } catch (err) {
    const e = err as Error & { code?: string }
    if (e.code === 'MCCS_ERR_AGENT_DOWN' || !e.code?.startsWith('MCCS_ERR_')) throw err
    io.err(`mccs mirror ${op}: ${e.message} (${e.code})`)
    return EXIT.REJECTED
  }
  if (o.json) {
    io.out(JSON.stringify(out, null, 2))
  } else if (op === 'status') {
    const sides = out as MirrorSides[]
    if (!sides.length) io.out('no mirror-disk resource')
    for (const s of sides) io.out(`${s.resource}\n  ${describeSide(s.local)}\n  ${describeSide(s.peer)}`)
  } else if (op === 'verify') {
    const v = out as VerifyReport & { resource: string; equal: boolean }
    io.out(
      v.equal
        ? `${v.resource}: both copies equal (${v.chunks} chunks of ${mib(v.chunk)}, ${v.ms} ms)`
        : `${v.resource}: copies DIFFER${v.sizes ? ` (sizes ${v.sizes.local} here, ${v.sizes.peer} on the peer)` : ''}\n${v.differing.map((d) => `  offset ${d.offset} length ${d.length}`).join('\n')}`,
    )
    return v.equal ? EXIT.OK : EXIT.FAILED
  } else {
    io.out(JSON.stringify(out))
  }
  return EXIT.OK
}
