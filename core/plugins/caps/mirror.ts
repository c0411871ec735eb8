// Capability `mirror` (permission "mirror"): the calling resource's mirror volume on this node. Bound
// to call.resource and the resource's committed attributes for this node: a plugin can never reach
// another resource's volume, choose a backing device the operator did not configure, or mount
// anything but its volume at its mountPoint. The daemons are the agent's (core/mirror/).
import { MccsError } from '../../errors.js'
import { simpleMethod, type CallInfo, type CapabilityProvider } from '../capabilities.js'
import { MirrorManager, mountedDevice, mountFromAttrs, type MirrorAttrs } from '../../mirror/manager.js'

const PERM = 'mirror'

export function mirrorProvider(mm: MirrorManager): CapabilityProvider {
  const vol = (call: CallInfo) => mm.volume(call.resource, call.node, call.attrs as MirrorAttrs)
  const status = async (call: CallInfo) => {
    const s = await vol(call).status()
    let mount = null
    try {
      const m = mountFromAttrs(call.attrs as MirrorAttrs)
      const dev = mountedDevice(m.mountPoint)
      mount = { mountPoint: m.mountPoint, mounted: dev !== null && dev === s.attached?.device, device: dev }
    } catch {
      /* no mount point configured */
    }
    return { ...s, mount }
  }
  return {
    name: 'mirror',
    methods: {
      status: simpleMethod(PERM, (_a, call) => status(call)),
      becomePrimary: simpleMethod(PERM, async ([opts], call) => {
        if (opts !== undefined && (typeof opts !== 'object' || opts === null || Array.isArray(opts)))
          throw new MccsError('MCCS_ERR_CAPABILITY_ARGS', 'must be an object { force }', { field: 'mirror.becomePrimary: opts' })
        const force = (opts as { force?: unknown } | undefined)?.force
        if (force !== undefined && typeof force !== 'boolean')
          throw new MccsError('MCCS_ERR_CAPABILITY_ARGS', 'must be a boolean', { field: 'mirror.becomePrimary: opts.force' })
        if (force) call.log.warn('mirror: becoming primary with force (data not known to be current)')
        // peerFenced comes from the agent's membership, never from the plugin: the engine decides to
        // promote a secondary whose last primary did not hand over only once that node is fenced.
        await vol(call).becomePrimary({ force: force === true, peerFenced: await mm.peerFenced(call.resource) })
        return status(call)
      }),
      becomeSecondary: simpleMethod(PERM, async (_a, call) => {
        await vol(call).becomeSecondary()
        return status(call)
      }),
      attach: simpleMethod(PERM, (_a, call) => vol(call).attach()),
      detach: simpleMethod(PERM, async (_a, call) => {
        await vol(call).detach()
      }),
      mount: simpleMethod(PERM, async (_a, call) => {
        await mm.mount(vol(call), call.attrs as MirrorAttrs)
        return status(call)
      }),
      unmount: simpleMethod(PERM, async (_a, call) => {
        await mm.unmount(vol(call), call.attrs as MirrorAttrs)
      }),
      // validate: host checks of the attributes proposed for THIS node (not yet committed, so passed in;
      // only what a check needs is read: existence, size and use of the backing, the port, mount points).
      inspect: simpleMethod(PERM, async ([attrs], call) => {
        if (!attrs || typeof attrs !== 'object' || Array.isArray(attrs))
          throw new MccsError('MCCS_ERR_CAPABILITY_ARGS', "must be this node's attributes", { field: 'mirror.inspect: attrs' })
        const a = attrs as Record<string, unknown>
        const pick = Object.fromEntries(
          ['backing', 'size', 'replicationAddress', 'port', 'mountPoint'].filter((k) => a[k] !== undefined).map((k) => [k, a[k]]),
        )
        for (const k of ['backing', 'mountPoint'] as const) {
          const v = pick[k]
          if (v !== undefined && (typeof v !== 'string' || !/^\/[A-Za-z0-9_./@+-]{1,200}$/.test(v) || v.includes('..')))
            throw new MccsError('MCCS_ERR_CAPABILITY_ARGS', 'must be an absolute path without ..', { field: `mirror.inspect: attrs.${k}` })
        }
        if (
          pick.replicationAddress !== undefined &&
          (typeof pick.replicationAddress !== 'string' || !/^[A-Za-z0-9.:-]{1,253}$/.test(pick.replicationAddress))
        )
          throw new MccsError('MCCS_ERR_CAPABILITY_ARGS', 'must be an address', { field: 'mirror.inspect: attrs.replicationAddress' })
        return mm.inspect(call.resource, pick as MirrorAttrs)
      }),
    },
  }
}
