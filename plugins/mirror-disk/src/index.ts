// mirror-disk: a replicated block volume that follows its group. All the work is the agent's, through
// the `mirror` capability (core/plugins/caps/mirror.ts): the plugin orders the steps and reports.
import { definePlugin, ok, notRunning, failed, invalid, diag, type Diagnostic, type HookAnswer } from '@mccs/sdk'
import type { MirrorCapability } from '../../../sdk/src/caps-mirror.js'

// ctx.mirror is in the SDK's Capabilities (sdk/src/types.ts); spelled out here so the plugin also
// type-checks against an SDK build that predates it.
const mirror = (ctx: object): MirrorCapability => (ctx as { mirror: MirrorCapability }).mirror

interface Attrs {
  backing: string
  replicationAddress: string
  peerAddress: string
  port?: number
  size?: string
  mode?: 'sync' | 'async'
  resyncRateMiBs?: number
  mountPoint: string
  fs?: 'ext4' | 'xfs'
  mountOptions?: string
  [k: string]: unknown
}
interface CapError {
  message?: string
  code?: string
  field?: string
}

/** core/mirror/volume.ts MAX_RESYNC_RATE_MIBS (a plugin imports nothing of the host's core). */
const MAX_RESYNC_RATE_MIBS = 65536
const PATH = /^\/[A-Za-z0-9_./@+-]{1,200}$/
const HOST = /^[A-Za-z0-9.:-]{1,253}$/

function check(a: Attrs, base: string): Diagnostic[] {
  const d: Diagnostic[] = []
  for (const f of ['backing', 'mountPoint'] as const) {
    if (typeof a[f] !== 'string' || !PATH.test(a[f]) || a[f].includes('..'))
      d.push(diag(`${base}/${f}`, 'must be an absolute path of letters, digits and _./@+- without ..'))
  }
  for (const f of ['replicationAddress', 'peerAddress'] as const) {
    if (typeof a[f] !== 'string' || !HOST.test(a[f])) d.push(diag(`${base}/${f}`, 'must be an IP address or host name'))
  }
  if (a.replicationAddress !== undefined && a.replicationAddress === a.peerAddress)
    d.push(diag(`${base}/peerAddress`, "must differ from this node's replication address"))
  if (a.port !== undefined && (!Number.isInteger(a.port) || a.port < 1024 || a.port > 65535))
    d.push(diag(`${base}/port`, 'must be an integer 1024..65535'))
  if (a.mode !== undefined && a.mode !== 'sync' && a.mode !== 'async') d.push(diag(`${base}/mode`, 'must be sync or async'))
  // The resync's background copy only (DRBD's resync-rate); a sync-mode write is never limited.
  if (
    a.resyncRateMiBs !== undefined &&
    (!Number.isInteger(a.resyncRateMiBs) || a.resyncRateMiBs < 0 || a.resyncRateMiBs > MAX_RESYNC_RATE_MIBS)
  )
    d.push(diag(`${base}/resyncRateMiBs`, `must be an integer 0..${MAX_RESYNC_RATE_MIBS} (MiB/s; 0 = unlimited)`))
  if (a.fs !== undefined && a.fs !== 'ext4' && a.fs !== 'xfs') d.push(diag(`${base}/fs`, 'must be ext4 or xfs'))
  if (a.mountOptions !== undefined && (typeof a.mountOptions !== 'string' || !/^[A-Za-z0-9_=.,:-]{0,200}$/.test(a.mountOptions)))
    d.push(diag(`${base}/mountOptions`, 'letters, digits and _=.,:- only'))
  return d
}

const why = (e: unknown): string => (e as CapError).message ?? String(e)

export default definePlugin<Attrs>({
  async validate(ctx, input) {
    const diags: Diagnostic[] = []
    const nodes = Object.keys(input.perNode)
    for (const n of nodes) diags.push(...check(input.perNode[n]!, `/nodes/${n}`))
    if (nodes.length !== 2) diags.push(diag('/nodes', `a mirror disk needs exactly two nodes (has ${nodes.length})`))
    if (nodes.length === 2) {
      // The two nodes must point at each other on two different addresses.
      const [x, y] = nodes as [string, string]
      const ax = input.perNode[x]!
      const ay = input.perNode[y]!
      if (ax.replicationAddress && ax.replicationAddress === ay.replicationAddress)
        diags.push(diag(`/nodes/${y}/replicationAddress`, `${x} and ${y} have the same replication address ${ax.replicationAddress}`))
      else {
        if (ax.peerAddress !== ay.replicationAddress)
          diags.push(diag(`/nodes/${x}/peerAddress`, `must be ${y}'s replication address (${ay.replicationAddress})`))
        if (ay.peerAddress !== ax.replicationAddress)
          diags.push(diag(`/nodes/${y}/peerAddress`, `must be ${x}'s replication address (${ax.replicationAddress})`))
      }
    }
    // Host checks on this node, of its own attributes (the other node checks its own when it validates).
    const here = input.perNode[ctx.node]
    if (here && !diags.some((d) => (d.path ?? '').startsWith(`/nodes/${ctx.node}/`))) {
      for (const f of await mirror(ctx).inspect(here)) diags.push(diag(`/nodes/${ctx.node}/${f.field}`, f.reason))
    }
    return diags.length ? invalid(diags) : ok()
  },

  async online(ctx): Promise<HookAnswer> {
    const bad = check(ctx.attrs, '')
    if (bad.length) return invalid(bad)
    try {
      await mirror(ctx).becomePrimary()
    } catch (e) {
      // Outdated data: no retry on this node can help; the operator decides (force) or another node takes it.
      if ((e as CapError).code === 'MCCS_ERR_MIRROR_OUTDATED') return invalid([diag('/', why(e))])
      return failed(`become primary: ${why(e)}`)
    }
    try {
      const dev = await mirror(ctx).attach()
      const s = await mirror(ctx).mount()
      return ok(`primary, ${dev} mounted at ${ctx.attrs.mountPoint}, replication ${s.replication?.state ?? 'unknown'}`, {
        data: { generation: s.generation?.current, device: dev },
      })
    } catch (e) {
      return failed(`attach/mount: ${why(e)}`)
    }
  },

  async offline(ctx): Promise<HookAnswer> {
    try {
      await mirror(ctx).unmount()
      await mirror(ctx).detach()
      await mirror(ctx).becomeSecondary()
      return ok('secondary')
    } catch (e) {
      return failed(`offline: ${why(e)}`)
    }
  },

  async clean(ctx): Promise<HookAnswer> {
    try {
      await mirror(ctx)
        .unmount()
        .catch(() => {})
      await mirror(ctx).detach()
      await mirror(ctx).becomeSecondary()
      return ok()
    } catch (e) {
      return failed(`clean: ${why(e)}`)
    }
  },

  async monitor(ctx): Promise<HookAnswer> {
    const s = await mirror(ctx).status()
    const data = {
      role: s.role,
      replication: s.replication?.state ?? null,
      percent: s.replication?.percent ?? null,
      generation: s.generation?.current ?? null,
    }
    if (s.role === 'down') {
      // Offline here means standby: the primary needs this node's copy exported (and a standby that is
      // not replicated to could never take over). Starting it is safe: nothing runs here, and a later
      // online replaces it (the capability serialises both).
      try {
        await mirror(ctx).becomeSecondary()
        return notRunning('not primary (secondary started: the copy is exported for the primary)', { data: { ...data, role: 'secondary' } })
      } catch (e) {
        return notRunning(`not primary (down; the secondary could not start: ${why(e)})`, { data })
      }
    }
    if (s.role !== 'primary') return notRunning(`not primary (${s.role})`, { data })
    // Its daemon cannot answer (a hung disk, or stopped): every write through it waits too. A fault at
    // once, so the group fails over, instead of a monitor that waits on it. A daemon only slow to answer
    // (a loaded host) is not a fault.
    if (s.daemon.stuck === true)
      return failed(
        `the replication daemon (pid ${s.daemon.pid ?? '?'}, process state ${s.daemon.state ?? '?'}) does not answer: its disk or process is stuck`,
        { data: { ...data, daemonState: s.daemon.state ?? null } },
      )
    if (!s.attached?.ok) return failed('the volume is not attached (nbdfuse or the loop device is gone)', { data })
    // The host also names the device's mounts in other mount namespaces.
    if (!s.mount?.mounted && s.attached.mountedElsewhere.includes(ctx.attrs.mountPoint)) {
      // The agent restarted: its predecessor's mount lives on in that agent's mount namespace. Adopted
      // (the same file system mounted here too), so what this agent starts sees it.
      try {
        const a = await mirror(ctx).mount()
        if (a.mount?.mounted) return ok(`primary, adopted the mount at ${ctx.attrs.mountPoint}`, { data })
      } catch (e) {
        return failed(`${ctx.attrs.mountPoint} is mounted only in an earlier agent's namespace and could not be adopted: ${why(e)}`, {
          data,
        })
      }
    }
    if (!s.mount?.mounted) return failed(`${ctx.attrs.mountPoint} is not mounted from ${s.attached.device}`, { data })
    return ok(
      `primary, replication ${s.replication?.state ?? 'unknown'}${s.replication?.state === 'SyncSource' ? ` ${s.replication.percent ?? 0} %` : ''}`,
      { data },
    )
  },
})
