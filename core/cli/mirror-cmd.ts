// mccs mirror status|verify|resync|resolve|primary: the mirror disks' replication (issue 15), asked of
// this node's agent; the other copy's side comes over the agents' peer channel.
import { currentUser } from './user.js'
import { rpc } from './control-client.js'
import { EXIT } from './exit-codes.js'
import type { CliIO } from './io.js'
import { t, type Locale } from '../i18n/messages.js'
import { formatTime } from '../i18n/time.js'
import type { VolumeStatus } from '../mirror/volume.js'
import type { MirrorSides } from '../mirror/control.js'
import type { VerifyReport } from '../mirror/verify.js'

/** The usage text in English (the help lists it); mirrorCommand prints it in the caller's language. */
export const MIRROR_USAGE = t('en', 'cli.mirror.usage')

const mib = (b: number | null | undefined): string => (b == null ? '-' : `${(b / 1048576).toFixed(1)} MiB`)

/** One line per side: DRBD-like disk and connection states (the state names stay DRBD's, in every language). */
export function describeSide(s: VolumeStatus | { error: string }, l: Locale = 'en'): string {
  if ('error' in s) return t(l, 'cli.mirror.unreachable', { error: s.error })
  const rec = s.peerRecord
  const disk = s.role === 'primary' ? 'UpToDate' : rec?.state === 'SyncTarget' ? 'Inconsistent' : (rec?.state ?? 'unknown')
  const r = s.replication
  let conn = s.role === 'primary' ? (r?.state ?? 'Unknown') : s.role === 'secondary' ? 'Secondary' : 'Down'
  if (r?.state === 'SyncSource' && r.resync) {
    const rate =
      (r.resync.rateBps ? t(l, 'cli.mirror.rate', { rate: mib(r.resync.rateBps), eta: r.resync.etaS ?? '-' }) : '') +
      (r.resync.limitBps ? t(l, 'cli.mirror.limit', { limit: mib(r.resync.limitBps) }) : '')
    conn +=
      ' ' +
      t(l, 'cli.mirror.resync', {
        percent: r.percent ?? 0,
        mode: r.resync.mode,
        done: mib(r.resync.done),
        total: mib(r.resync.bytes),
        rate,
      })
  }
  if (r?.state === 'Suspended' && r.suspended)
    conn += t(l, 'cli.mirror.suspended', { since: r.suspended.since, reason: r.suspended.reason })
  const gen = s.generation?.current ?? '-'
  const parts = [`${s.node}: ${s.role}`, t(l, 'cli.mirror.disk', { disk }), conn, t(l, 'cli.mirror.generation', { generation: gen })]
  if (s.role === 'primary') parts.push(t(l, 'cli.mirror.dirty', { size: mib(s.dirtyBytes) }))
  if (s.attached) parts.push(t(l, 'cli.mirror.attached', { device: s.attached.device }) + (s.attached.ok ? '' : t(l, 'cli.mirror.broken')))
  if (s.splitBrain)
    parts.push(
      t(l, 'cli.mirror.splitBrain', {
        local: s.splitBrain.local.node,
        localGen: s.splitBrain.local.generation,
        localDirty: mib(s.splitBrain.local.dirtyBytes),
        peer: s.splitBrain.peer.node ?? '?',
        peerGen: String(s.splitBrain.peer.generation),
        peerDirty: mib(s.splitBrain.peer.dirtyBytes),
        resource: s.resource,
      }),
    )
  return parts.join(', ')
}

export async function mirrorCommand(
  args: string[],
  o: { socket: string; json: boolean; force: boolean; discard?: string; locale?: Locale },
  io: CliIO,
): Promise<number> {
  const l = o.locale ?? 'en'
  const [op, resource, ...extra] = args
  const usage = (): number => {
    io.err(t(l, 'cli.mirror.usage'))
    return EXIT.USAGE
  }
  if (!op || extra.length || !['status', 'verify', 'resync', 'resolve', 'primary'].includes(op)) return usage()
  if (op !== 'status' && !resource) return usage()
  if (op === 'resolve' && !o.discard) {
    io.err(t(l, 'cli.mirror.discardRequired'))
    return EXIT.USAGE
  }
  if (op === 'primary' && !o.force) {
    io.err(t(l, 'cli.mirror.forceRequired'))
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
    io.err(t(l, 'cli.mirror.refused', { op, message: e.message, code: e.code }))
    return EXIT.REJECTED
  }
  if (o.json) {
    io.out(JSON.stringify(out, null, 2))
  } else if (op === 'status') {
    const sides = out as MirrorSides[]
    if (!sides.length) io.out(t(l, 'cli.mirror.none'))
    for (const s of sides) io.out(`${s.resource}\n  ${describeSide(s.local, l)}\n  ${describeSide(s.peer, l)}`)
  } else if (op === 'verify') {
    const v = out as VerifyReport & { resource: string; equal: boolean }
    io.out(
      v.equal
        ? t(l, 'cli.mirror.equal', { resource: v.resource, chunks: v.chunks, chunk: mib(v.chunk), ms: v.ms })
        : [
            t(l, 'cli.mirror.differ', {
              resource: v.resource,
              sizes: v.sizes ? t(l, 'cli.mirror.sizes', { local: v.sizes.local, peer: v.sizes.peer }) : '',
            }),
            ...v.differing.map((d) => t(l, 'cli.mirror.range', { offset: d.offset, length: d.length })),
          ].join('\n'),
    )
    return v.equal ? EXIT.OK : EXIT.FAILED
  } else {
    io.out(doneLine(op, resource!, out, l))
  }
  return EXIT.OK
}

/** What resync, resolve and primary did, in a line of the reader's language (their JSON is --json's). */
function doneLine(op: string, resource: string, out: unknown, l: Locale): string {
  const a = (out ?? {}) as { node?: string; until?: string; discarded?: { node?: string }; kept?: { node?: string } }
  if (op === 'resync') return t(l, 'cli.mirror.resyncStarted', { resource, node: a.node ?? '?' })
  if (op === 'resolve') return t(l, 'cli.mirror.resolved', { resource, discarded: a.discarded?.node ?? '?', kept: a.kept?.node ?? '?' })
  return t(l, 'cli.mirror.promotionAllowed', {
    resource,
    node: a.node ?? '?',
    until: a.until ? formatTime(l, a.until) : '?',
  })
}
