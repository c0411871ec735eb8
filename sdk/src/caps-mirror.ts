// The `mirror` capability (permission "mirror"): the mirror-disk data plane of the calling resource on
// this node (core/plugins/caps/mirror.ts). The agent runs the daemons; the plugin only asks.
export interface MirrorStatus {
  resource: string
  node: string
  role: 'primary' | 'secondary' | 'down'
  /** `state`: the daemon's process state letter (T stopped, D uninterruptible); `answering`: false when
   *  it is stopped or its monitor missed a status question's short deadline (primary only, else null);
   *  `stuck`: it cannot answer (stopped, or in state D with a question unanswered), not merely slow. */
  daemon: { running: boolean; pid: number | null; state?: string | null; answering?: boolean | null; stuck?: boolean }
  generation: { current: string; history: string[]; role: string; updatedAt: string } | null
  peerRecord: {
    state: 'UpToDate' | 'SyncTarget' | 'Outdated'
    generation: string | null
    by: string | null
    at: string
    reason?: string
  } | null
  /** Suspended: the link is lost and writes are held until the peer is outdated or fenced.
   *  SplitBrain: both nodes wrote on their own; nothing is sent until `mccs mirror resolve`. */
  replication: {
    state: 'Connected' | 'SyncSource' | 'Disconnected' | 'StandAlone' | 'Suspended' | 'SplitBrain'
    percent: number | null
    job: Record<string, unknown> | null
    suspended?: { since: string; reason: string }
    resync?: { mode: 'partial' | 'full'; bytes: number; done: number; rateBps: number | null; etaS: number | null; startedAt: string }
  } | null
  /** Primary: bytes written since the generation its peer holds. */
  dirtyBytes: number | null
  splitBrain: {
    detectedAt: string
    how: string
    local: { node: string; generation: string; dirtyBytes: number | null }
    peer: { node: string | null; generation: string | null; dirtyBytes: number | null }
  } | null
  /** `mountedElsewhere`: the device's mount points in other mount namespaces (an earlier agent's, after a
   *  restart: the plugin adopts them). */
  attached: { device: string; ok: boolean; mountedElsewhere: string[] } | null
  mount?: { mountPoint: string; mounted: boolean; device: string | null } | null
}
export interface MirrorCapability {
  status(): Promise<MirrorStatus>
  /** Refused (MCCS_ERR_MIRROR_OUTDATED) when this node's data is not known to be current, unless force. */
  becomePrimary(opts?: { force?: boolean }): Promise<MirrorStatus>
  becomeSecondary(): Promise<MirrorStatus>
  /** Primary only: the volume as a local block device; returns its path. */
  attach(): Promise<string>
  detach(): Promise<void>
  /** fsck -p then mount the attached device at the resource's mountPoint (fs, mountOptions attributes). */
  mount(): Promise<MirrorStatus>
  /** Unmounts the resource's mountPoint (syncs first). */
  unmount(): Promise<void>
  /** validate: host checks of the attributes proposed for this node (backing exists, big enough, not
   *  mounted or swap; port free on an address of this node; mount point not inside another's). */
  inspect(attrs: Record<string, unknown>): Promise<Array<{ field: string; reason: string }>>
}
