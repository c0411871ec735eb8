// The agent's mirror volumes on this node, one MirrorVolume per resource, built from the resource's
// committed attributes for this node (validated: a field error names the attribute). The daemons run
// under the agent's ProcManager, so they outlive an agent restart and are found again by resource.
import fs from 'node:fs'
import path from 'node:path'
import { execFile } from 'node:child_process'
import { MccsError } from '../errors.js'
import type { ProcSupervisor } from './supervisor.js'
import { MirrorVolume, checkConfig, type VolumeConfig, type VolumeStatus } from './volume.js'
import type { PeerRecord } from './meta.js'
import { inspectAttrs, type InspectFinding } from './inspect.js'
import { unmountEverywhere } from './mounts.js'

export interface MirrorAttrs {
  backing?: unknown
  replicationAddress?: unknown
  peerAddress?: unknown
  port?: unknown
  mode?: unknown
  resyncRateMiBs?: unknown
  mountPoint?: unknown
  fs?: unknown
  mountOptions?: unknown
}

const FS = new Set(['ext4', 'xfs'])
const OPTS_RE = /^[A-Za-z0-9_=.,:-]{0,200}$/
const MP_RE = /^\/[A-Za-z0-9_./@+-]{1,200}$/

const attrErr = (field: string, reason: string): MccsError => new MccsError('MCCS_ERR_CAPABILITY_ARGS', reason, { field: `/${field}` })

/** Volume config from one node's attributes; throws naming the attribute. */
export interface MirrorSecret {
  cluster: string
  key: Buffer
}

export function configFromAttrs(resource: string, node: string, a: MirrorAttrs, runBase: string, secret: MirrorSecret): VolumeConfig {
  const port = a.port ?? 7789
  if (!Number.isInteger(port) || (port as number) < 1024 || (port as number) > 65535)
    throw attrErr('port', 'must be an integer 1024..65535')
  for (const f of ['backing', 'replicationAddress', 'peerAddress'] as const)
    if (typeof a[f] !== 'string' || !a[f]) throw attrErr(f, 'is required')
  const c: VolumeConfig = {
    resource,
    node,
    backing: a.backing as string,
    runDir: path.join(runBase, resource),
    listen: { host: a.replicationAddress as string, port: port as number },
    peer: { host: a.peerAddress as string, port: port as number },
    mode: (a.mode ?? 'sync') as 'sync',
    // Checked by checkConfig (an integer 0..MAX_RESYNC_RATE_MIBS); absent or 0: unlimited.
    ...(a.resyncRateMiBs !== undefined ? { resyncRateMiBs: a.resyncRateMiBs as number } : {}),
    secret,
  }
  try {
    return checkConfig(c)
  } catch (e) {
    const f = (e as MccsError).field ?? ''
    const attr = f === 'listen.host' ? 'replicationAddress' : f === 'peer.host' ? 'peerAddress' : f.split('.')[0]
    throw attrErr(attr ?? 'config', (e as Partial<MccsError>).reason ?? (e as Error).message)
  }
}

export function mountFromAttrs(a: MirrorAttrs): { mountPoint: string; fs: string; options: string } {
  if (typeof a.mountPoint !== 'string' || !MP_RE.test(a.mountPoint) || a.mountPoint.includes('..'))
    throw attrErr('mountPoint', 'must be an absolute path without ..')
  const fsType = a.fs ?? 'ext4'
  if (typeof fsType !== 'string' || !FS.has(fsType)) throw attrErr('fs', 'must be ext4 or xfs')
  const options = a.mountOptions ?? ''
  if (typeof options !== 'string' || !OPTS_RE.test(options)) throw attrErr('mountOptions', 'letters, digits and _=.,:- only')
  return { mountPoint: a.mountPoint, fs: fsType, options }
}

function run(argv: string[], okCodes = [0]): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(argv[0]!, argv.slice(1), { timeout: 600_000 }, (err, _o, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0
      if (okCodes.includes(code)) resolve()
      else
        reject(
          new MccsError('MCCS_ERR_MIRROR_ENGINE', `${argv.join(' ')} failed (${code}): ${String(stderr).trim()}`, { subject: argv[0] }),
        )
    })
  })
}

export const mountedDevice = (mp: string): string | null => {
  try {
    const l = fs
      .readFileSync('/proc/self/mounts', 'utf8')
      .split('\n')
      .find((x) => x.split(' ')[1] === mp)
    return l ? l.split(' ')[0]! : null
  } catch {
    return null
  }
}

export interface MirrorManagerOptions {
  procs: ProcSupervisor
  /** Sockets and FUSE mounts, one folder per resource (short: Unix socket paths ≤ 107 bytes). */
  runBase: string
  /** The cluster's name and key, or null on a node without a cluster (nothing to replicate with). */
  secret: () => MirrorSecret | null
  /** The engine's evidence that the node(s) holding the other copy of `resource` are fenced (lets a
   *  secondary whose last primary did not hand over become primary without force). Default: never. */
  peerFenced?: (resource: string) => boolean | Promise<boolean>
  /** One mirror message (core/mirror/peer.ts) to the node holding the resource's other copy, over the
   *  agents' peer channel (not the replication link). Without it a primary that loses its peer holds
   *  its writes until the peer is fenced, and a split brain is seen only when the link returns. */
  peerRequest?: (resource: string, msg: { t: string; [k: string]: unknown }, timeoutMs: number) => Promise<unknown>
  /** The configured mirror-disk resources (mccs mirror status with no name). */
  resources?: () => string[]
  /** Every other resource's mount point on this node (validate: no mount point inside another's). */
  mountPoints?: (except: string) => Array<{ resource: string; mountPoint: string }>
  /** This node's name and the resource's attributes here (for a peer's request about a volume no
   *  plugin call has opened since the agent started); null when the resource is not configured. */
  attrsOf?: (resource: string) => { node: string; attrs: MirrorAttrs } | null
  log?: (m: string, d?: Record<string, unknown>) => void
}

export class MirrorManager {
  private readonly vols = new Map<string, MirrorVolume>()
  private readonly procs: ProcSupervisor
  private readonly runBase: string
  private readonly secret: () => MirrorSecret | null
  private readonly log: (m: string, d?: Record<string, unknown>) => void
  /** Whether the other copy's node is fenced now (the host's evidence, never a plugin's). */
  readonly peerFenced: (resource: string) => Promise<boolean>
  private readonly o: MirrorManagerOptions

  constructor(o: MirrorManagerOptions) {
    this.o = o
    this.procs = o.procs
    this.runBase = o.runBase
    this.secret = o.secret
    const fenced = o.peerFenced ?? (() => false)
    this.peerFenced = async (r) => (await fenced(r)) === true
    this.log = o.log ?? (() => {})
  }

  /** The volume of `resource` for these attributes (a changed configuration replaces the object). */
  volume(resource: string, node: string, attrs: MirrorAttrs): MirrorVolume {
    const secret = this.secret()
    if (!secret)
      throw new MccsError(
        'MCCS_ERR_MIRROR_ROLE',
        'this node is not part of a cluster (no cluster key): a mirror needs two nodes of one cluster',
        { subject: resource },
      )
    const c = configFromAttrs(resource, node, attrs, this.runBase, secret)
    const have = this.vols.get(resource)
    if (have && JSON.stringify(have.c) === JSON.stringify(c)) return have
    have?.close()
    const ask = this.o.peerRequest
    const v = new MirrorVolume(c, this.procs, this.log, {
      peerFenced: () => this.peerFenced(resource),
      ...(ask
        ? {
            // DRBD's fence-peer: the peer records Outdated before this primary writes without it.
            outdatePeer: async (rec: PeerRecord) => {
              await ask(resource, { t: 'mirrorOutdate', resource, rec }, 2500)
            },
            peerStatus: async () => (await ask(resource, { t: 'mirrorStatus', resource }, 3000)) as VolumeStatus,
          }
        : {}),
    })
    this.vols.set(resource, v)
    return v
  }

  /** Validate's host checks of one node's attributes, on this node (core/mirror/inspect.ts). */
  async inspect(resource: string, attrs: MirrorAttrs & { size?: unknown }): Promise<InspectFinding[]> {
    const v = this.vols.get(resource)
    let ownListen = false
    if (v && v.c.listen.host === attrs.replicationAddress && v.c.listen.port === (attrs.port ?? 7789)) {
      const s = await v.status()
      ownListen = s.role === 'secondary' && s.daemon.running
    }
    return inspectAttrs(attrs, { ownListen, others: this.o.mountPoints?.(resource) ?? [] })
  }

  /** For the operator's commands (core/mirror/control.ts). */
  get peerRequest() {
    return this.o.peerRequest
  }
  resources(): string[] {
    return this.o.resources?.() ?? [...this.vols.keys()]
  }

  /** The known volume of `resource` (opened by a plugin call, or from its configuration here). */
  known(resource: string): MirrorVolume | null {
    const have = this.vols.get(resource)
    if (have) return have
    const a = this.o.attrsOf?.(resource)
    return a ? this.volume(resource, a.node, a.attrs) : null
  }

  /** A peer's request (the primary lost the replication link): this node's copy is Outdated. */
  async markOutdated(resource: string, rec: PeerRecord): Promise<{ ok: true }> {
    const v = this.known(resource)
    if (!v) throw new MccsError('MCCS_ERR_NOT_FOUND', `no mirror volume ${resource} on this node`, { subject: resource })
    await v.markOutdated(rec)
    return { ok: true }
  }

  async mount(v: MirrorVolume, attrs: MirrorAttrs): Promise<void> {
    const m = mountFromAttrs(attrs)
    const st = await v.status()
    if (!st.attached?.ok) throw new MccsError('MCCS_ERR_MIRROR_ROLE', 'the volume is not attached on this node', { subject: v.c.resource })
    const dev = st.attached.device
    const cur = mountedDevice(m.mountPoint)
    if (cur === dev) return v.armAutoclear(dev)
    if (cur) throw new MccsError('MCCS_ERR_CONFLICT', `${m.mountPoint} already has ${cur} mounted`, { field: '/mountPoint' })
    if (st.attached.mountedElsewhere.includes(m.mountPoint)) {
      // The live file system an earlier agent mounted in its own mount namespace (the process it started
      // still works in it): mounting the device again shares its superblock, so this is the same file
      // system, now also where this agent and what it starts see it. No check: it is mounted.
      fs.mkdirSync(m.mountPoint, { recursive: true })
      await run(['mount', '-t', m.fs, ...(m.options ? ['-o', m.options] : []), dev, m.mountPoint])
      this.log('mirror: adopted the file system mounted by an earlier agent', {
        resource: v.c.resource,
        device: dev,
        mountPoint: m.mountPoint,
      })
      return v.armAutoclear(dev)
    }
    // fsck -p: 0 clean, 1 errors corrected; anything else needs an operator.
    await run(m.fs === 'xfs' ? ['xfs_repair', '-n', dev] : ['e2fsck', '-p', dev], [0, 1])
    fs.mkdirSync(m.mountPoint, { recursive: true })
    await run(['mount', '-t', m.fs, ...(m.options ? ['-o', m.options] : []), dev, m.mountPoint])
    // From now on the kernel detaches the loop device at the file system's last unmount: an agent
    // killed with its daemons (its mount namespace ending) leaves no device bound over a dead file.
    await v.armAutoclear(dev)
  }

  /** Unmounts the volume's file system here and every copy of it in other mount namespaces (see
   *  mounts.ts): only then is it shut down and its last writes on the volume. */
  async unmount(v: MirrorVolume, attrs: MirrorAttrs): Promise<void> {
    const m = mountFromAttrs(attrs)
    await v.stopIfStuck()
    const a = (await v.status()).attached
    if (a?.ok) return unmountEverywhere(m.mountPoint, a.device)
    if (mountedDevice(m.mountPoint)) await run(['umount', m.mountPoint])
  }

  close(): void {
    for (const v of this.vols.values()) v.close()
  }
}

export type { VolumeStatus }
