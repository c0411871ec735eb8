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
    } catch { /* no mount point configured */ }
    return { ...s, mount }
  }
  return {
    name: 'mirror',
    methods: {
      status: simpleMethod(PERM, (_a, call) => status(call)),
      becomePrimary: simpleMethod(PERM, async ([opts], call) => {
        if (opts !== undefined && (typeof opts !== 'object' || opts === null || Array.isArray(opts))) throw new MccsError('MCCS_ERR_CAPABILITY_ARGS', 'must be an object { force }', { field: 'mirror.becomePrimary: opts' })
        const force = (opts as { force?: unknown } | undefined)?.force
        if (force !== undefined && typeof force !== 'boolean') throw new MccsError('MCCS_ERR_CAPABILITY_ARGS', 'must be a boolean', { field: 'mirror.becomePrimary: opts.force' })
        if (force) call.log.warn('mirror: becoming primary with force (data not known to be current)')
        // peerFenced comes from the agent's membership, never from the plugin: the engine decides to
        // promote a secondary whose last primary did not hand over only once that node is fenced.
        await vol(call).becomePrimary({ force: force === true, peerFenced: mm.peerFenced() })
        return status(call)
      }),
      becomeSecondary: simpleMethod(PERM, async (_a, call) => { await vol(call).becomeSecondary(); return status(call) }),
      attach: simpleMethod(PERM, (_a, call) => vol(call).attach()),
      detach: simpleMethod(PERM, async (_a, call) => { await vol(call).detach() }),
      mount: simpleMethod(PERM, async (_a, call) => { await mm.mount(vol(call), call.attrs as MirrorAttrs); return status(call) }),
      unmount: simpleMethod(PERM, async (_a, call) => { await mm.unmount(call.attrs as MirrorAttrs) }),
    },
  }
}
