// The data plane of one mirror volume on one node: qemu-storage-daemon (and nbdfuse while attached)
// run as supervised children of the agent (ProcManager: own session, survive an agent restart).
//
//   secondary  qsd exports the backing file ("vol") and the 4 KiB peer record ("meta", see meta.ts)
//              over NBD on the replication address. Nothing is attached locally.
//   primary    qsd opens the backing file and exports it on a local Unix socket; a blockdev-mirror job
//              (copy-mode write-blocking = sync: a write completes once both sides have it;
//              background = async) copies to the peer's "vol" export. Local attach: nbdfuse on that
//              socket → a file in a FUSE mount → losetup → /dev/loopN (no nbd/ublk module on these hosts;
//              QEMU 7.2's own FUSE export cannot share its node with a mirror job: "resize" permission).
// Every value put on a qsd command line is validated first (no commas: qsd's key=value syntax).
//
// The replication link is NBD over TLS with a pre-shared key (qsd's tls-creds-psk, TLS 1.3 via GnuTLS):
// PSK = HKDF(cluster key, "mirror-replication <cluster> <resource>"), one per cluster and volume, so
// a node of another cluster or the key of another volume opens nothing. The key reaches qsd only as a
// file (<runDir>/tls/keys.psk, 0600 in a 0700 folder), never on a command line.
import fs from 'node:fs'
import crypto from 'node:crypto'
import net from 'node:net'
import path from 'node:path'
import { execFile } from 'node:child_process'
import { MccsError } from '../errors.js'
import { writeFileAtomicSync } from '../config/atomic.js'
import type { ProcSupervisor } from './supervisor.js'
import { withQmp, QmpClient } from './qmp.js'
import { assertReleased, claimed, deviceNumber, mountedInNsOf, mountsOf, unmountPathEverywhere } from './mounts.js'
import { autoclearSet, loopBacking, loopDetach, readRecord, recordAttach, sameAttachment } from './loop.js'
import { derivePsk } from '../cluster/tls.js'
import {
  bumped,
  mayPromote,
  readGeneration,
  readPeerRecord,
  writeGeneration,
  writePeerRecord,
  encodePeerRecord,
  encodeRecord,
  decodeRecord,
  dataGeneration,
  PEER_REC_BYTES,
  type PeerRecord,
  type GenerationRecord,
  type PeerOutdated,
  type SelfRecord,
} from './meta.js'

export interface VolumeConfig {
  resource: string
  /** This node's name (written into the peer record). */
  node: string
  /** Backing file or block device (absolute). */
  backing: string
  /** Folder for generation.json and peer.rec (default: beside a backing file, <backing>.mccs/). */
  metaDir?: string
  /** Sockets, fuse mount point; short (Unix socket paths ≤ 107 bytes). */
  runDir: string
  /** This node's replication address (listened on as secondary). */
  listen: { host: string; port: number }
  /** The other node's replication address. */
  peer: { host: string; port: number }
  mode: 'sync' | 'async'
  /** Resync rate limit in MiB/s (DRBD's resync-rate; qemu's job `speed`): the full and partial resync
   *  jobs' background copy only, never the application's writes. 0 or absent: unlimited. */
  resyncRateMiBs?: number
  /** The cluster's name and 32-byte key: the replication link's PSK is derived from them. */
  secret: { cluster: string; key: Buffer }
  /** Host-internal: argv prefix for qsd (the lab runs it inside a network namespace). */
  wrap?: string[]
}

/** What the cluster tells the primary about its peer when the replication link is lost (DRBD's
 *  fence-peer handler): the host provides them, never the plugin. */
export interface VolumeHooks {
  /** Marks the peer's data Outdated over the cluster's own channel (not the replication link);
   *  resolves once the peer has recorded it, rejects when it cannot be reached or refuses. */
  outdatePeer?: (rec: PeerRecord) => Promise<void>
  /** The node of the other copy is fenced (the engine's evidence, from the coordinator). */
  peerFenced?: () => boolean | Promise<boolean>
  /** The peer's side as its agent reports it over the cluster's channel (split brain: both primary). */
  peerStatus?: () => Promise<VolumeStatus>
}

/** Both sides wrote on their own (each was primary): nothing is sent until an operator resolves it. */
export interface SplitBrain {
  detectedAt: string
  local: { node: string; generation: string; history: string[]; dirtyBytes: number | null }
  peer: { node: string | null; generation: string | null; history: string[]; dirtyBytes: number | null; role?: string }
  how: string
}

export interface VolumeStatus {
  resource: string
  node: string
  role: 'primary' | 'secondary' | 'down'
  /** `state`: its process state letter from /proc/<pid>/stat (T stopped, D uninterruptible). `answering`:
   *  false when it is stopped or a question to its monitor went unanswered past its short deadline; null
   *  when nothing was asked (not primary). `stuck`: it cannot answer — stopped, or in state D with a
   *  question unanswered (a hung disk); a daemon merely slow (busy, a loaded host) is not stuck. */
  daemon: { running: boolean; pid: number | null; state: string | null; answering: boolean | null; stuck: boolean }
  generation: GenerationRecord | null
  /** What the last primary declared about this node's data (secondary side). */
  peerRecord: PeerRecord | null
  /** Primary: its peer missed writes (since when, what it holds at most). */
  peerOutdated: PeerOutdated | null
  /** Primary: replication to the peer. */
  replication: {
    state: 'Connected' | 'SyncSource' | 'Disconnected' | 'StandAlone' | 'Suspended' | 'SplitBrain'
    percent: number | null
    job: Record<string, unknown> | null
    suspended?: { since: string; reason: string }
    /** The running resync: partial (the blocks written since the peer's generation) or full. */
    resync?: {
      mode: 'partial' | 'full'
      bytes: number
      done: number
      rateBps: number | null
      etaS: number | null
      startedAt: string
      /** The configured resync rate limit in bytes/s (null: unlimited). */
      limitBps: number | null
    }
  } | null
  /** Primary: bytes written since the generation its peer holds (the dirty bitmap). */
  dirtyBytes: number | null
  splitBrain: SplitBrain | null
  /** `mountedElsewhere`: the mount points of the device's file system in other mount namespaces (an
   *  earlier agent's, or a process's it started), which this agent adopts (MirrorManager.mount). */
  attached: { device: string; ok: boolean; mountedElsewhere: string[] } | null
}

const PATH_RE = /^\/[A-Za-z0-9_./@+-]{1,200}$/
const HOST_RE = /^[A-Za-z0-9.:-]{1,253}$/
const RES_RE = /^[A-Za-z0-9_.:@-]{1,128}$/
const QSD = '/usr/bin/qemu-storage-daemon'
/** Dirty-bitmap granularity: the backup job copies 64 KiB clusters to an NBD target anyway. */
const BITMAP_GRANULARITY = 65536
/** Highest resync rate limit accepted (MiB/s): 64 GiB/s, beyond any link; qemu takes bytes/s as int64. */
export const MAX_RESYNC_RATE_MIBS = 65536
/** How long `mccs mirror primary --force` stays valid for the next promotion. */
const FORCE_ONCE_MS = 15 * 60_000
/** While in sync, the tracking bitmaps rotate this often (a flap then resends at most ~2 periods). */
const BITMAP_ROTATE_MS = 30_000
const NBDFUSE = '/usr/bin/nbdfuse'
/** The TCP front of a secondary started by an earlier version (see relayArgv). */
const SOCAT = '/usr/bin/socat'
/** The secondary's replication listener, made by perl-base (Essential in Debian) before it execs qsd:
 *  a TCP socket with TCP_NODELAY, which Linux copies to every connection accepted on it, handed to qsd's
 *  NBD server as an fd (`addr.type=fd`). QEMU 7.2's NBD server sets no TCP_NODELAY itself, and over TLS
 *  a reply is several small records: with two or more writes in flight, one waited in Nagle's queue for
 *  the primary's delayed ACK (~40 ms; 60 writes/s at queue depth 2). Earlier a socat relay in front of
 *  a Unix socket fixed that, at two more process hops per replicated write (docs/BENCHMARKS.md). Upstream
 *  fix: QEMU 8.0 ("nbd/server: push pending frames after sending reply"). argv: host port qsd-argv…,
 *  where "@FD@" in qsd's arguments becomes the socket's fd. Bind errors (port in use) go to the log. */
const PERL = '/usr/bin/perl'
const LISTEN_PL = [
  'use Socket qw(:all); use Fcntl;',
  'my ($h, $p) = splice(@ARGV, 0, 2); my $v6 = $h =~ /:/;',
  'socket(my $s, $v6 ? PF_INET6 : PF_INET, SOCK_STREAM, IPPROTO_TCP) or die "socket: $!\\n";',
  'setsockopt($s, SOL_SOCKET, SO_REUSEADDR, 1) or die "SO_REUSEADDR: $!\\n";',
  'setsockopt($s, IPPROTO_TCP, TCP_NODELAY, 1) or die "TCP_NODELAY: $!\\n";',
  'bind($s, $v6 ? pack_sockaddr_in6($p, inet_pton(AF_INET6, $h)) : pack_sockaddr_in($p, inet_aton($h)))',
  '  or die "the replication address $h port $p: $!\\n";',
  'listen($s, 16) or die "listen: $!\\n"; fcntl($s, F_SETFD, 0) or die "fcntl: $!\\n";',
  'my $fd = fileno($s); s/\\@FD\\@/$fd/ for @ARGV; exec { $ARGV[0] } @ARGV or die "exec: $!\\n";',
].join(' ')
/** TLS cipher: AES-GCM where the CPU has AES instructions. GnuTLS chose ChaCha20 here, whose software
 *  code was the largest item of both daemons' profiles at 4 KiB writes (perf, docs/BENCHMARKS.md). */
const TLS_PRIORITY = /^flags\s*:.*\baes\b/m.test(readOr('/proc/cpuinfo')) ? 'NORMAL:-CHACHA20-POLY1305' : null
/** Deadline of a status question to the daemon's monitor (query-*): qsd answers them in milliseconds
 *  from its main loop; one that does not within this is stuck (a hung disk) or stopped. */
const STATUS_QMP_MS = 2500

const bad = (field: string, reason: string): MccsError => new MccsError('MCCS_ERR_INVALID', reason, { field })
const engineErr = (subject: string, reason: string, data?: Record<string, unknown>): MccsError =>
  new MccsError('MCCS_ERR_MIRROR_ENGINE', reason, { subject, ...(data ? { data } : {}) })
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
function readOr(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8')
  } catch {
    return ''
  }
}

/** The PSK user name qsd sends as the TLS identity (in clear; the key is what proves anything). */
const PSK_USER = 'mccs'
export const mirrorPsk = (cluster: string, key: Buffer, resource: string): Buffer =>
  derivePsk(key, `mirror-replication ${cluster} ${resource}`)

/** Checks a config; throws MCCS_ERR_INVALID naming the field. */
export function checkConfig(c: VolumeConfig): VolumeConfig {
  if (!c || typeof c !== 'object') throw bad('config', 'must be an object')
  if (typeof c.resource !== 'string' || !RES_RE.test(c.resource)) throw bad('resource', 'must match [A-Za-z0-9_.:@-]{1,128}')
  if (typeof c.node !== 'string' || !RES_RE.test(c.node)) throw bad('node', 'must match [A-Za-z0-9_.:@-]{1,128}')
  for (const f of ['backing', 'runDir'] as const) {
    if (typeof c[f] !== 'string' || !PATH_RE.test(c[f]) || c[f].includes('/../') || c[f].endsWith('/..'))
      throw bad(f, 'must be an absolute path of letters, digits and _./@+- (no commas, no ..)')
  }
  if (c.metaDir !== undefined && (typeof c.metaDir !== 'string' || !PATH_RE.test(c.metaDir) || c.metaDir.includes('..')))
    throw bad('metaDir', 'must be an absolute path without ..')
  if (Buffer.byteLength(path.join(c.runDir, 'qmp.sock')) > 107) throw bad('runDir', 'too long for a Unix socket path (107 bytes)')
  for (const f of ['listen', 'peer'] as const) {
    const a = c[f]
    if (!a || typeof a.host !== 'string' || !HOST_RE.test(a.host)) throw bad(`${f}.host`, 'must be an IP address or host name')
    if (!Number.isInteger(a.port) || a.port < 1 || a.port > 65535) throw bad(`${f}.port`, 'must be an integer 1..65535')
  }
  if (c.mode !== 'sync' && c.mode !== 'async') throw bad('mode', 'must be sync or async')
  if (
    c.resyncRateMiBs !== undefined &&
    (!Number.isInteger(c.resyncRateMiBs) || c.resyncRateMiBs < 0 || c.resyncRateMiBs > MAX_RESYNC_RATE_MIBS)
  )
    throw bad('resyncRateMiBs', `must be an integer 0..${MAX_RESYNC_RATE_MIBS} (MiB/s; 0 = unlimited)`)
  if (
    !c.secret ||
    typeof c.secret.cluster !== 'string' ||
    !c.secret.cluster ||
    !Buffer.isBuffer(c.secret.key) ||
    c.secret.key.length !== 32
  ) {
    throw bad('secret', 'the cluster name and its 32-byte key are required (the replication link is never in clear)')
  }
  return c
}

function run(argv: string[], timeoutMs = 30_000): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(argv[0]!, argv.slice(1), { timeout: timeoutMs }, (err, stdout, stderr) => {
      if (err) reject(engineErr(argv[0]!, `${argv.join(' ')}: ${String(stderr).trim() || err.message}`))
      else resolve(String(stdout))
    })
  })
}

const mounted = (mp: string): boolean => {
  try {
    return fs
      .readFileSync('/proc/self/mounts', 'utf8')
      .split('\n')
      .some((l) => l.split(' ')[1] === mp)
  } catch {
    return false
  }
}

function tcpProbe(host: string, port: number, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.createConnection({ host, port })
    const done = (v: boolean): void => {
      clearTimeout(t)
      s.destroy()
      resolve(v)
    }
    const t = setTimeout(() => done(false), ms)
    s.once('connect', () => done(true))
    s.once('error', () => done(false))
  })
}

/** How long the peer has left the process's data unacknowledged, counted in the kernel's RTO timeouts
 *  and zero-window/no-route probes, over its established TCP connections to `port`: read in the
 *  process's own network namespace through /proc/<pid>/net. */
export function unackedTimeouts(pid: number, port: number): number {
  return tcpToPeer(pid, port).worst
}

/** Established connections to `port` in the process's namespace, and the worst unacknowledged count. */
function tcpToPeer(pid: number, port: number): { established: number; worst: number } {
  let worst = 0
  let established = 0
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0')
  for (const f of ['tcp', 'tcp6']) {
    let text: string
    try {
      text = fs.readFileSync(`/proc/${pid}/net/${f}`, 'utf8')
    } catch {
      continue
    }
    for (const line of text.split('\n').slice(1)) {
      const c = line.trim().split(/\s+/)
      if (c.length < 7 || c[3] !== '01' || c[2]!.split(':')[1] !== hexPort) continue
      established++
      // Unacknowledged data queued, and RTO timeouts (retrnsmt) or unanswered probes (with the route
      // gone the kernel probes instead of retransmitting: timer 04, count in the `timeout` column).
      if ((parseInt(c[4]!.split(':')[0]!, 16) || 0) === 0) continue
      worst = Math.max(worst, (parseInt(c[6]!, 16) || 0) + (parseInt(c[8]!, 10) || 0))
    }
  }
  return { established, worst }
}

/** A process's state letter from /proc (T: stopped), null when it is gone. */
function procState(pid: number | null): string | null {
  if (!pid) return null
  try {
    const st = fs.readFileSync(`/proc/${pid}/stat`, 'utf8')
    return st.slice(st.lastIndexOf(')') + 2).split(' ')[0] ?? null
  } catch {
    return null
  }
}

/** Size of a backing file or block device (a block device's stat size is 0: seek to its end). */
async function backingSize(fh: fs.promises.FileHandle, file: string): Promise<number> {
  const st = await fh.stat()
  if (st.isFile()) return st.size
  const n = /^\/dev\/([A-Za-z0-9]+)$/.exec(fs.realpathSync(file))?.[1]
  const sectors = n ? Number(fs.readFileSync(`/sys/class/block/${n}/size`, 'utf8').trim()) : NaN
  if (!Number.isFinite(sectors)) throw bad('backing', 'cannot read the size of this block device')
  return sectors * 512
}

/** A 4 KiB record written in place (a daemon may have the file open). */
function writeRecordFile(file: string, b: Buffer): void {
  const fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_CREAT, 0o600)
  try {
    fs.writeSync(fd, b, 0, b.length, 0)
    fs.fsyncSync(fd)
  } finally {
    fs.closeSync(fd)
  }
}

function readJson<T>(file: string): T | null {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as T
  } catch {
    return null
  }
}

export class MirrorVolume {
  readonly c: VolumeConfig
  readonly metaDir: string
  private readonly procRes: string
  private qmp: QmpClient | null = null
  private timer: NodeJS.Timeout | null = null
  private ticking = false
  private busy: Promise<unknown> = Promise.resolve()
  /** Writes held (the link to the peer is lost, the peer is neither outdated nor fenced yet). */
  private suspended: { since: string; reason: string; rec: PeerRecord } | null = null

  constructor(
    config: VolumeConfig,
    private readonly procs: ProcSupervisor,
    private readonly log: (msg: string, data?: Record<string, unknown>) => void = () => {},
    private readonly hooks: VolumeHooks = {},
  ) {
    this.c = checkConfig(config)
    this.metaDir = config.metaDir ?? `${config.backing}.mccs`
    this.procRes = `mirror.${config.resource}`
  }

  private get qmpSock(): string {
    return path.join(this.c.runDir, 'qmp.sock')
  }
  private get nbdSock(): string {
    return path.join(this.c.runDir, 'nbd.sock')
  }
  /** A secondary of an earlier version: its qsd's NBD server socket, behind socat (relayArgv). */
  private get peerSock(): string {
    return path.join(this.c.runDir, 'peer.sock')
  }
  /** Kept for a secondary started by an earlier version (the daemons outlive an agent upgrade); new ones
   *  listen through LISTEN_PL. Its replication listener: socat with TCP_NODELAY in front of qsd's NBD server on a Unix
   *  socket. QEMU 7.2's NBD server sets no TCP_NODELAY, and over TLS each reply is several small
   *  records: with two or more writes in flight, a reply waited in Nagle's queue for the primary's
   *  delayed ACK (~40 ms): 60 writes/s at queue depth 2 against 7,400 through this relay (measured,
   *  docs/BENCHMARKS.md). Fixed upstream in QEMU 8.0 ("nbd/server: push pending frames after sending
   *  reply"). It only moves bytes: the TLS session is still between the two qsd. */
  private relayArgv(): string[] {
    const { host, port } = this.c.listen
    const listen = host.includes(':') ? `TCP6-LISTEN:${port},bind=[${host}]` : `TCP4-LISTEN:${port},bind=${host}`
    return [...(this.c.wrap ?? []), SOCAT, `${listen},reuseaddr,fork,nodelay`, `UNIX-CONNECT:${this.peerSock}`]
  }
  private async startRelay(): Promise<void> {
    const st = await this.procs.start(this.procRes, { name: 'relay', argv: this.relayArgv() })
    // Listening once its socket shows in the namespace's table (socat binds at once, or exits: port in use).
    const hexPort = this.c.listen.port.toString(16).toUpperCase().padStart(4, '0')
    const end = Date.now() + 5000
    for (;;) {
      const s = await this.procs.status(this.procRes, 'relay')
      if (!s.running)
        throw engineErr(this.c.resource, `the replication listener (socat) exited at start (see ${s.logFile})`, { logFile: st.logFile })
      const listening = ['tcp', 'tcp6'].some((f) => {
        try {
          return fs
            .readFileSync(`/proc/${s.pid}/net/${f}`, 'utf8')
            .split('\n')
            .some((l) => {
              const c = l.trim().split(/\s+/)
              return c[3] === '0A' && c[1]?.split(':')[1] === hexPort
            })
        } catch {
          return false
        }
      })
      if (listening) return
      if (Date.now() > end)
        throw engineErr(this.c.resource, `the replication listener did not listen on port ${this.c.listen.port} within 5 s`)
      await sleep(20)
    }
  }
  private get fuseDir(): string {
    return path.join(this.c.runDir, 'fuse')
  }
  private get fuseFile(): string {
    return path.join(this.fuseDir, 'disk')
  }
  private get peerRecFile(): string {
    return path.join(this.metaDir, 'peer.rec')
  }
  private get outRecFile(): string {
    return path.join(this.c.runDir, 'out.rec')
  }
  private get roleFile(): string {
    return path.join(this.c.runDir, 'role')
  }
  private get tlsDir(): string {
    return path.join(this.c.runDir, 'tls')
  }
  private get outdatedFile(): string {
    return path.join(this.metaDir, 'peer-outdated.json')
  }
  private get selfRecFile(): string {
    return path.join(this.metaDir, 'self.rec')
  }
  private get splitBrainFile(): string {
    return path.join(this.metaDir, 'split-brain.json')
  }
  /** Operator's resolve on the surviving side: the peer generation whose data may be overwritten. */
  private get discardFile(): string {
    return path.join(this.metaDir, 'discard-peer.json')
  }
  /** Primary: the dirty bitmaps in qsd (memory) and the generation the peer held when they began. */
  private get bitmapsFile(): string {
    return path.join(this.c.runDir, 'bitmaps.json')
  }
  private get resyncFile(): string {
    return path.join(this.c.runDir, 'resync.json')
  }
  /** The operator allowed the next promotion here over data not known to be current. */
  private get forceOnceFile(): string {
    return path.join(this.metaDir, 'force-once.json')
  }
  private probeFails = 0
  /** The last status question its monitor left unanswered past STATUS_QMP_MS (cleared by an answer). */
  private unanswered: { at: string; cmd: string; state: string | null } | null = null
  /** Status questions that missed their deadline (any process state), counted per status. */
  private misses = 0
  /** Ticks in a row with the mirror job running and no connection to the peer. */
  private closedTicks = 0

  /** keys.psk for qsd (`user:hexkey`), 0600 in a 0700 folder, rewritten before each daemon start. */
  private writeKeys(): void {
    fs.mkdirSync(this.tlsDir, { recursive: true, mode: 0o700 })
    fs.chmodSync(this.tlsDir, 0o700)
    writeFileAtomicSync(
      path.join(this.tlsDir, 'keys.psk'),
      `${PSK_USER}:${mirrorPsk(this.c.secret.cluster, this.c.secret.key, this.c.resource).toString('hex')}\n`,
      0o600,
    )
  }
  private tlsArgs(endpoint: 'server' | 'client'): string[] {
    return [
      '--object',
      `tls-creds-psk,id=tls0,endpoint=${endpoint},dir=${this.tlsDir}${endpoint === 'client' ? `,username=${PSK_USER}` : ''}${TLS_PRIORITY ? `,priority=${TLS_PRIORITY}` : ''}`,
    ]
  }

  /** One action at a time per volume. */
  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const r = this.busy.then(fn, fn)
    this.busy = r.catch(() => {})
    return r
  }

  /** A status question (query-*) with the short deadline. Unanswered while the daemon is in state D or
   *  stopped: the fault is recorded and the connection dropped (the replication checks stop): nothing
   *  more waits on this daemon until a status finds it answering again (adopt). Unanswered while it runs
   *  or sleeps (busy, a loaded host): only this question fails; the connection stays (its late answer
   *  is dropped by id, qmp.ts). */
  private async ask<T>(q: QmpClient, cmd: string, args?: Record<string, unknown>): Promise<T> {
    try {
      const r = await q.command<T>(cmd, args, { timeoutMs: STATUS_QMP_MS })
      if (this.unanswered) this.log('mirror: the daemon answers again', { resource: this.c.resource })
      this.unanswered = null
      return r
    } catch (e) {
      if (/no answer within/.test(String((e as Error).message))) {
        this.misses++
        const d = await this.procs.status(this.procRes, 'qsd')
        const st = procState(d.pid)
        if (st !== 'D' && st !== 'T' && st !== 't') {
          this.log('mirror: the daemon is slow to answer its monitor (not stuck)', {
            resource: this.c.resource,
            pid: d.pid,
            cmd,
            state: st,
          })
          throw e
        }
        this.unanswered = { at: new Date().toISOString(), cmd, state: st }
        this.log('mirror: the daemon does not answer its monitor; nothing more is asked until it does', {
          resource: this.c.resource,
          pid: d.pid,
          ...this.unanswered,
        })
        if (this.qmp === q) {
          this.stopTimer()
          this.qmp = null
        }
        q.close()
      }
      throw e
    }
  }

  /** Stopped (T), or in uninterruptible sleep (D) with a question unanswered past its deadline. */
  private stuckState(d: { running: boolean; pid: number | null }): string | null {
    if (!d.running) return null
    const st = procState(d.pid)
    return st === 'T' || st === 't' || (st === 'D' && this.unanswered) ? st : null
  }

  /** Offline over a primary daemon that cannot answer: the file system's unmount would wait on it for
   *  ever (its writes go through it). Killed at once (nothing it acknowledged is lost: its writes are
   *  in the backing file); in state D the kill waits for the disk, and a daemon that survives it fails
   *  the offline (never a second daemon on the backing file). True when it was stopped here. */
  async stopIfStuck(): Promise<boolean> {
    const d = await this.procs.status(this.procRes, 'qsd')
    const st = this.stuckState(d)
    if (!st) return false
    this.log('mirror: the daemon cannot answer (process state ' + st + '): it is killed before the unmount', {
      resource: this.c.resource,
      pid: d.pid,
    })
    this.stopTimer()
    this.qmp?.close() // fails the question a check may be waiting on: the lock is free at once
    this.qmp = null
    await this.serial(async () => {
      const now = await this.procs.status(this.procRes, 'qsd')
      if (now.pid === d.pid && now.running) await this.stopDaemon(true)
    })
    return true
  }

  private prepare(): void {
    fs.mkdirSync(this.c.runDir, { recursive: true, mode: 0o700 })
    fs.mkdirSync(this.metaDir, { recursive: true, mode: 0o700 })
    const st = fs.statSync(this.c.backing) // throws ENOENT: named below
    if (!st.isFile() && !st.isBlockDevice()) throw bad('backing', 'must be a regular file or a block device')
    this.writeKeys()
    if (!fs.existsSync(this.peerRecFile))
      writePeerRecord(this.peerRecFile, {
        state: 'Outdated',
        generation: null,
        by: null,
        at: new Date().toISOString(),
        reason: 'new volume',
      })
  }

  private currentRole(): 'primary' | 'secondary' | 'down' {
    try {
      const r = fs.readFileSync(this.roleFile, 'utf8').trim()
      return r === 'primary' || r === 'secondary' ? r : 'down'
    } catch {
      return 'down'
    }
  }

  private blockdevArgs(): string[] {
    return ['--blockdev', `driver=file,node-name=file0,filename=${this.c.backing}`, '--blockdev', 'driver=raw,node-name=disk0,file=file0']
  }
  private monitorArgs(): string[] {
    return ['--chardev', `socket,id=qmp0,path=${this.qmpSock},server=on,wait=off`, '--monitor', 'chardev=qmp0']
  }

  private async startDaemon(argv: string[], role: 'primary' | 'secondary'): Promise<void> {
    fs.rmSync(this.qmpSock, { force: true })
    fs.rmSync(this.nbdSock, { force: true })
    fs.rmSync(this.peerSock, { force: true })
    const st = await this.procs.start(this.procRes, { name: 'qsd', argv: [...(this.c.wrap ?? []), ...argv] })
    fs.writeFileSync(this.roleFile, role + '\n')
    // The monitor socket appears once qsd has parsed every option and opened the images.
    const end = Date.now() + 10_000
    while (!fs.existsSync(this.qmpSock)) {
      const s = await this.procs.status(this.procRes, 'qsd')
      if (!s.running) {
        // Its own last words (a bind error of the listener, a bad image), not the supervisor's exit line.
        const last = (st.logFile ? readOr(st.logFile) : '')
          .split('\n')
          .filter((l) => l.trim() && !/mccs-supervisor:/.test(l))
          .pop()
          ?.slice(0, 300)
        throw engineErr(this.c.resource, `qemu-storage-daemon exited at start${last ? `: ${last}` : ''} (see ${s.logFile})`, {
          logFile: st.logFile,
        })
      }
      if (Date.now() > end) throw engineErr(this.c.resource, 'qemu-storage-daemon did not open its monitor socket within 10 s')
      await sleep(20)
    }
  }

  /** `hung`: the daemon is stopped (it cannot act on SIGTERM; its writes are in the file): killed at once. */
  private async stopDaemon(hung = false): Promise<void> {
    this.stopTimer()
    this.qmp?.close()
    this.qmp = null
    await this.procs.stop(this.procRes, 'relay', { graceMs: 2000 })
    await this.procs.stop(this.procRes, 'qsd', { graceMs: hung ? 0 : 5000 })
    this.unanswered = null
    fs.rmSync(this.roleFile, { force: true })
    fs.rmSync(path.join(this.c.runDir, 'peer-uptodate'), { force: true })
    fs.rmSync(this.bitmapsFile, { force: true }) // they lived in the daemon's memory
    fs.rmSync(this.resyncFile, { force: true })
  }

  /** Secondary: export the backing file and the peer record for the primary. */
  /** A role change over a daemon that cannot answer (stopped: a fence's SIGSTOP before its kill): the
   *  replication check already asking its monitor held the volume's lock until the QMP timeout (10 s).
   *  Dropping the connection fails that question at once; the role change then kills the daemon. */
  private async unstick(): Promise<void> {
    const d = await this.procs.status(this.procRes, 'qsd')
    if (!this.stuckState(d)) return
    this.log('mirror: the daemon is stopped and cannot answer; its monitor connection is dropped', {
      resource: this.c.resource,
      pid: d.pid,
    })
    this.stopTimer()
    this.qmp?.close()
    this.qmp = null
  }

  becomeSecondary(): Promise<VolumeStatus> {
    return this.unstick().then(() => this.serial(() => this.demote()))
  }

  private async demote(): Promise<VolumeStatus> {
    await this.adopt() // a clean demotion hands over through the daemon's monitor
    const role = this.currentRole()
    const daemon = await this.procs.status(this.procRes, 'qsd')
    // Stopped: no handover, and no claim of a clean demotion (its last writes may be half done).
    const hung = this.stuckState(daemon) !== null
    if (role === 'secondary' && daemon.running) {
      // A secondary started by an earlier version listens behind socat (its qsd on peer.sock).
      if (fs.existsSync(this.peerSock) && !(await this.procs.status(this.procRes, 'relay')).running) await this.startRelay()
      return this.statusNow()
    }
    const dev = this.attachedDevice()
    if (dev && loopBacking(dev) === this.fuseFile)
      throw new MccsError('MCCS_ERR_MIRROR_ROLE', `the volume is still attached on this node (${dev}); detach it first`, {
        subject: this.c.resource,
      })
    await this.dropStale() // a device (and its record) left by a crash
    const cleanDemotion = role === 'primary' && daemon.running && !hung
    if (cleanDemotion) await this.handOver()
    if (daemon.running) await this.stopDaemon(hung)
    else {
      // Its daemon died (a fence that spares the agent, a crash): that daemon's replication checks and
      // monitor connection go with it, or they would ask the new daemon's socket through a dead one.
      this.stopTimer()
      this.qmp?.close()
      this.qmp = null
    }
    this.prepare()
    const gen = readGeneration(this.metaDir)
    const prev = readPeerRecord(this.peerRecFile)
    const at = new Date().toISOString()
    if (cleanDemotion && gen) {
      // It was primary until now and stopped cleanly: it holds every write of its generation.
      writePeerRecord(this.peerRecFile, {
        state: 'UpToDate',
        generation: gen.current,
        by: this.c.node,
        at,
        reason: 'was primary until a clean demotion',
        handover: true,
      })
    } else if (gen?.role === 'primary') {
      writePeerRecord(this.peerRecFile, {
        state: 'Outdated',
        generation: gen.current,
        by: this.c.node,
        at,
        reason: 'this node stopped as primary without a clean demotion (a crash?); another node may have been primary since',
      })
    } else if (prev?.state === 'UpToDate' && !prev.handover && !daemon.running) {
      // Its daemon was down: the primary may have written without this node meanwhile.
      writePeerRecord(this.peerRecFile, {
        ...prev,
        state: 'Outdated',
        at,
        reason: `this node's replication daemon stopped while ${prev.by ?? 'the primary'} was primary; it may have written without this node`,
      })
    } else if (prev?.state === 'SyncTarget') {
      writePeerRecord(this.peerRecFile, { ...prev, state: 'SyncTarget', reason: 'a resync was interrupted' })
    }
    const ownGen = gen ? { ...gen, role: 'secondary' as const } : null
    if (ownGen) writeGeneration(this.metaDir, ownGen)
    writeRecordFile(this.selfRecFile, encodeRecord({ node: this.c.node, gen: ownGen, at: new Date().toISOString() } satisfies SelfRecord))
    await this.startDaemon(
      [
        PERL,
        '-e',
        LISTEN_PL,
        this.c.listen.host,
        String(this.c.listen.port),
        QSD,
        ...this.tlsArgs('server'),
        ...this.blockdevArgs(),
        '--blockdev',
        `driver=file,node-name=metaf,filename=${this.peerRecFile}`,
        '--blockdev',
        'driver=raw,node-name=meta0,file=metaf',
        '--blockdev',
        `driver=file,node-name=selff,filename=${this.selfRecFile},read-only=on`,
        '--blockdev',
        'driver=raw,node-name=self0,file=selff,read-only=on',
        '--nbd-server',
        'addr.type=fd,addr.str=@FD@,tls-creds=tls0',
        '--export',
        'type=nbd,id=vol,node-name=disk0,name=vol,writable=on',
        '--export',
        'type=nbd,id=meta,node-name=meta0,name=meta,writable=on',
        '--export',
        'type=nbd,id=self,node-name=self0,name=self,writable=off',
        ...this.monitorArgs(),
      ],
      'secondary',
    )
    this.log('mirror: secondary', { resource: this.c.resource })
    return this.statusNow()
  }

  /** Secondary: the primary lost the replication link and goes on without this node (asked over the
   *  cluster's own channel): its data is Outdated from now on. Refused while this node is primary. */
  markOutdated(rec: PeerRecord): Promise<void> {
    return this.serial(async () => {
      if (
        !rec ||
        typeof rec !== 'object' ||
        (rec.generation !== null && (typeof rec.generation !== 'string' || !/^[0-9A-F]{1,32}$/.test(rec.generation)))
      )
        throw bad('rec.generation', 'must be a generation id or null')
      if (typeof rec.by !== 'string' || !RES_RE.test(rec.by)) throw bad('rec.by', 'must be a node name')
      const daemon = await this.procs.status(this.procRes, 'qsd')
      if (this.currentRole() === 'primary' && daemon.running) {
        throw new MccsError(
          'MCCS_ERR_MIRROR_ROLE',
          `${this.c.node} is primary for ${this.c.resource} itself: it cannot be outdated (split brain)`,
          { subject: this.c.resource },
        )
      }
      fs.mkdirSync(this.metaDir, { recursive: true, mode: 0o700 })
      const reason = typeof rec.reason === 'string' ? rec.reason.slice(0, 300) : 'the primary lost the replication link'
      writePeerRecord(this.peerRecFile, { state: 'Outdated', generation: rec.generation, by: rec.by, at: new Date().toISOString(), reason })
      this.log('mirror: outdated by the primary', { resource: this.c.resource, by: rec.by, generation: rec.generation })
    })
  }

  /** mccs mirror primary <r> --force: the next promotion here (the engine's online, within 15 min)
   *  goes ahead over data not known to be current. */
  allowForcedPromotion(user: string): Promise<{ node: string; until: string; note: string }> {
    return this.serial(async () => {
      fs.mkdirSync(this.metaDir, { recursive: true, mode: 0o700 })
      const at = new Date()
      writeFileAtomicSync(this.forceOnceFile, JSON.stringify({ by: user, at: at.toISOString() }) + '\n', 0o600)
      this.log('mirror: the operator allows a forced promotion here', { resource: this.c.resource, user })
      return {
        node: this.c.node,
        until: new Date(at.getTime() + FORCE_ONCE_MS).toISOString(),
        note: `now bring ${this.c.resource}'s group online on ${this.c.node}; writes the other node acknowledged and this one lacks are lost`,
      }
    })
  }

  /** mccs mirror resync <r> (primary): the peer gets the whole volume again. It is marked SyncTarget
   *  first (it never counts as current meanwhile), the mirror is ended cleanly (a ready job drains to
   *  the peer), and the dirty bitmaps are no longer trusted for it. */
  fullResync(): Promise<{ node: string; started: boolean }> {
    return this.serial(async () => {
      if (this.currentRole() !== 'primary' || !this.qmp)
        throw new MccsError(
          'MCCS_ERR_MIRROR_ROLE',
          `a resync starts on the primary; ${this.c.node} is not primary for ${this.c.resource}`,
          { subject: this.c.resource },
        )
      const q = this.qmp
      const bm = readJson<{ names: string[]; seq: number }>(this.bitmapsFile)
      if (bm) writeFileAtomicSync(this.bitmapsFile, JSON.stringify({ ...bm, since: null }) + '\n', 0o600)
      const jobs = await this.ask<{ device: string; ready: boolean }[]>(q, 'query-block-jobs')
      if (jobs.some((j) => j.device === 'm0')) {
        const gen = readGeneration(this.metaDir)!
        await this.sendPeerRecord({
          state: 'SyncTarget',
          generation: gen.current,
          by: this.c.node,
          at: new Date().toISOString(),
          reason: 'a full resync was asked for',
        })
        fs.rmSync(path.join(this.c.runDir, 'peer-uptodate'), { force: true })
        await q.command('block-job-cancel', { device: 'rs0', force: true }).catch(() => {})
        await q.command('block-job-cancel', { device: 'm0' })
        const end = Date.now() + 30_000
        while ((await this.ask<{ device: string }[]>(q, 'query-block-jobs')).some((j) => j.device === 'm0')) {
          if (Date.now() > end) throw engineErr(this.c.resource, 'the mirror job did not end within 30 s')
          await sleep(50)
        }
        await q.command('job-dismiss', { id: 'rs0' }).catch(() => {})
        await this.dropPeerNodes()
      }
      this.log('mirror: full resync asked for', { resource: this.c.resource })
      return { node: this.c.node, started: true }
    })
  }

  /** Ends a split brain (mccs mirror resolve <resource> --discard <node>), on each side:
   *  keep: this node's data wins; the recorded split brain is cleared and the next connect may send
   *  the whole volume over the peer's generation (a full resync, nothing merged).
   *  discard: this node's data is given up; it must be secondary (offline here first); it records
   *  itself Outdated so it never becomes primary with it, and waits for the full resync. */
  resolve(side: 'keep' | 'discard'): Promise<{ node: string; side: 'keep' | 'discard'; peerGeneration: string | null }> {
    return this.serial(async () => {
      if (side !== 'keep' && side !== 'discard') throw bad('side', 'must be keep or discard')
      const sb = readJson<SplitBrain>(this.splitBrainFile)
      const daemon = await this.procs.status(this.procRes, 'qsd')
      const primary = this.currentRole() === 'primary' && daemon.running
      if (side === 'discard') {
        if (primary)
          throw new MccsError(
            'MCCS_ERR_MIRROR_ROLE',
            `${this.c.node} is primary for ${this.c.resource}: take the resource offline on ${this.c.node} first (it becomes secondary), then resolve`,
            { subject: this.c.resource },
          )
        fs.mkdirSync(this.metaDir, { recursive: true, mode: 0o700 })
        const gen = readGeneration(this.metaDir)
        writePeerRecord(this.peerRecFile, {
          state: 'Outdated',
          generation: gen?.current ?? null,
          by: this.c.node,
          at: new Date().toISOString(),
          reason: "split brain resolved: this node's data is discarded (a full resync from the peer follows)",
        })
        fs.rmSync(this.splitBrainFile, { force: true })
        this.log("mirror: split brain resolved: this node's data is discarded", { resource: this.c.resource })
        return { node: this.c.node, side, peerGeneration: null }
      }
      if (!sb)
        throw new MccsError('MCCS_ERR_CONFLICT', `no split brain is recorded for ${this.c.resource} on ${this.c.node}`, {
          subject: this.c.resource,
        })
      if (!primary)
        throw new MccsError(
          'MCCS_ERR_MIRROR_ROLE',
          `${this.c.node} is not primary for ${this.c.resource}: the side whose data is kept must be primary (online here)`,
          { subject: this.c.resource },
        )
      writeFileAtomicSync(this.discardFile, JSON.stringify({ generation: sb.peer.generation, at: new Date().toISOString() }) + '\n', 0o600)
      fs.rmSync(this.splitBrainFile, { force: true })
      this.log("mirror: split brain resolved: this node's data is kept; the peer gets a full resync", {
        resource: this.c.resource,
        peerGeneration: sb.peer.generation,
      })
      return { node: this.c.node, side, peerGeneration: sb.peer.generation }
    })
  }

  /** Primary: refuses when this node's data is not known to be current, unless force. */
  becomePrimary(opts: { force?: boolean; peerFenced?: boolean } = {}): Promise<VolumeStatus> {
    return this.unstick().then(() => this.promote(opts))
  }

  private promote(opts: { force?: boolean; peerFenced?: boolean }): Promise<VolumeStatus> {
    return this.serial(async () => {
      const daemon = await this.procs.status(this.procRes, 'qsd')
      if (this.currentRole() === 'primary' && daemon.running) {
        await this.adopt()
        return this.statusNow()
      }
      this.prepare()
      const gen = readGeneration(this.metaDir)
      const peerRec = readPeerRecord(this.peerRecFile)
      const forceOnce = readJson<{ by: string; at: string }>(this.forceOnceFile)
      if (forceOnce && Date.now() - Date.parse(forceOnce.at) < FORCE_ONCE_MS) opts = { ...opts, force: true }
      fs.rmSync(this.forceOnceFile, { force: true })
      let d = mayPromote(gen, peerRec, { peerFenced: opts.peerFenced === true })
      if (!d.ok && gen?.role !== 'primary' && peerRec?.state === 'UpToDate' && !peerRec.handover) {
        const why = await this.lastPrimaryStopped(peerRec)
        if (why) d = { ok: true, reason: why }
      }
      if (d.ok && !daemon.running && peerRec?.state === 'UpToDate' && !peerRec.handover) {
        // Its replication daemon was down: the primary may have written without it (a fast-failing
        // connection lets the primary's writes complete locally at once).
        d = {
          ok: false,
          reason: `its data is Outdated: this node's replication daemon was not running, so ${peerRec.by ?? 'the primary'} may have written without it since generation ${peerRec.generation}`,
        }
      }
      if (!d.ok && opts.force !== true) {
        throw new MccsError(
          'MCCS_ERR_MIRROR_OUTDATED',
          `refusing to become primary: ${d.reason}. Its data may miss writes another node acknowledged. ` +
            `To bring it online anyway (those writes are then lost for good), force it: \`mccs mirror primary ${this.c.resource} --force\` on ${this.c.node}, then bring its group online here (capability: becomePrimary({ force: true })).`,
          { subject: this.c.resource, data: { generation: gen, peerRecord: peerRec } },
        )
      }
      if (!d.ok) this.log('mirror: FORCED primary over outdated data', { resource: this.c.resource, reason: d.reason })
      if (daemon.running) await this.stopDaemon(this.stuckState(daemon) !== null)
      else await this.procs.stop(this.procRes, 'relay', { graceMs: 2000 }) // a secondary's, its qsd gone
      fs.rmSync(path.join(this.c.runDir, 'peer-uptodate'), { force: true })
      fs.rmSync(this.outdatedFile, { force: true })
      this.probeFails = 0
      this.suspended = null
      // A new primary period: the peer is not known to have what this node will write.
      // Its data's generation (its own, or the one the last primary declared it holds) starts the
      // history: split-brain detection and partial resync compare lineages.
      const dg = dataGeneration(this.c.node, gen, peerRec)
      const base: GenerationRecord | null = dg.generation
        ? {
            current: dg.generation,
            history: gen ? [gen.current, ...gen.history].filter((g) => g !== dg.generation) : [],
            role: 'secondary',
            updatedAt: new Date().toISOString(),
          }
        : gen
      const next: GenerationRecord = { ...bumped(base), ...(peerRec ? { baseRecAt: peerRec.at } : {}) }
      writeGeneration(this.metaDir, next)
      await this.startDaemon(
        [
          QSD,
          ...this.tlsArgs('client'),
          ...this.blockdevArgs(),
          '--nbd-server',
          `addr.type=unix,addr.path=${this.nbdSock}`,
          // top0 (raw over disk0) is what the export writes and the mirror copies from; a partial resync's
          // backup job runs on disk0 below it (a node with a job is busy for another job).
          '--blockdev',
          'driver=raw,node-name=top0,file=disk0',
          '--export',
          'type=nbd,id=vol,node-name=top0,name=vol,writable=on',
          ...this.monitorArgs(),
        ],
        'primary',
      )
      // qsd binds the monitor socket a moment before it listens: retry a refused connect briefly.
      for (let i = 0; ; i++) {
        const q = new QmpClient(this.qmpSock)
        try {
          await q.connect()
          this.qmp = q
          break
        } catch (e) {
          q.close()
          if (i >= 50 || !/ECONNREFUSED/.test(String(e))) throw e
          await sleep(40)
        }
      }
      // Every write from now on is tracked: the peer, once it holds this data generation, gets only those.
      await this.addBitmaps(next.history[0] ?? null, [])
      await this.connectPeer().catch((e: unknown) =>
        this.log('mirror: peer not connected', { resource: this.c.resource, error: String(e) }),
      )
      this.startTimer()
      return this.statusNow()
    })
  }

  /** Primary: connects to the peer's exports and starts the mirror; false when the peer is not there.
   *  First reads what the peer holds (its "self" and "meta" records): a peer that wrote on its own
   *  (its generation is not in this node's lineage) is a split brain, and nothing is sent; a peer that
   *  holds exactly the generation the dirty bitmaps began at gets only the dirty blocks. */
  private async connectPeer(): Promise<boolean> {
    const q = this.qmp
    if (!q) return false
    const jobs = await this.ask<{ device: string }[]>(q, 'query-block-jobs')
    if (jobs.some((j) => j.device === 'm0')) return true
    if (fs.existsSync(this.splitBrainFile)) return false
    // qsd's blockdev-add of an NBD node connects synchronously: probe first so an unreachable peer
    // never stalls the daemon's main loop.
    if (!(await this.probePeer())) return false
    await this.dropPeerNodes()
    const server = { type: 'inet', host: this.c.peer.host, port: String(this.c.peer.port) }
    const nbd = (name: string, exp: string, ro = false) =>
      q.command('blockdev-add', {
        driver: 'nbd',
        'node-name': name,
        server,
        export: exp,
        'tls-creds': 'tls0',
        ...(ro ? { 'read-only': true } : {}),
      })
    await nbd('peer', 'vol')
    await nbd('peermeta', 'meta')
    await nbd('peerself', 'self', true)
    const self = decodeRecord<SelfRecord>(await this.readPeerBlock('peerself'))
    const rec = decodeRecord<PeerRecord>(await this.readPeerBlock('peermeta'))
    const gen = readGeneration(this.metaDir)!
    const lineage = [gen.current, ...gen.history]
    const dg = dataGeneration(self?.node ?? '?', self?.gen ?? null, rec)
    const discard = readJson<{ generation: string | null }>(this.discardFile)
    if (dg.generation && !lineage.includes(dg.generation) && discard?.generation !== dg.generation) {
      await this.splitBrain(
        { node: self?.node ?? null, generation: dg.generation, history: self?.gen?.history ?? [], dirtyBytes: null },
        `the peer holds generation ${dg.generation} (${dg.from === self?.node ? 'written as primary itself' : `declared by ${dg.from}`}), which is not in this node's history`,
      )
      await this.dropPeerNodes()
      return false
    }
    const bm = readJson<{ since: string | null; names: string[] }>(this.bitmapsFile)
    const partial =
      !!bm?.since &&
      dg.consistent &&
      dg.generation === bm.since &&
      discard?.generation !== dg.generation &&
      (dg.exact || (rec?.by === this.c.node && rec.state === 'Outdated'))
    await this.sendPeerRecord({ state: 'SyncTarget', generation: gen.current, by: this.c.node, at: new Date().toISOString() })
    const copyMode = this.c.mode === 'sync' ? 'write-blocking' : 'background'
    let bytes = 0
    if (partial) {
      // From now on every write goes to both; then the blocks written since the peer's generation are
      // copied by a backup job over a second connection (the mirror does not share its target).
      // Order on the peer: the backup's copy-before-write filter sits on disk0, under top0, so an
      // application write to a block not yet copied first sends the old block, then the write reaches
      // disk0, then the mirror (above) sends the new one.
      await q.command('blockdev-mirror', { 'job-id': 'm0', device: 'top0', target: 'peer', sync: 'none', 'copy-mode': copyMode })
      await nbd('peer2', 'vol')
      await q.command('block-dirty-bitmap-remove', { node: 'disk0', name: 'rs' }).catch(() => {})
      await q.command('block-dirty-bitmap-add', { node: 'disk0', name: 'rs', granularity: BITMAP_GRANULARITY, disabled: true })
      await q.command('block-dirty-bitmap-merge', { node: 'disk0', target: 'rs', bitmaps: bm!.names })
      bytes = (await this.bitmapCounts())['rs'] ?? 0
      await q.command('blockdev-backup', {
        'job-id': 'rs0',
        device: 'disk0',
        target: 'peer2',
        sync: 'bitmap',
        bitmap: 'rs',
        'bitmap-mode': 'never',
        'auto-dismiss': false,
        ...this.speedArg(),
      })
    } else {
      await q.command('blockdev-mirror', {
        'job-id': 'm0',
        device: 'top0',
        target: 'peer',
        sync: 'full',
        'copy-mode': copyMode,
        ...this.speedArg(),
      })
    }
    fs.rmSync(this.discardFile, { force: true })
    writeFileAtomicSync(
      this.resyncFile,
      JSON.stringify({ mode: partial ? 'partial' : 'full', bytes, startedAt: new Date().toISOString(), peerGeneration: dg.generation }) +
        '\n',
      0o600,
    )
    this.log(`mirror: ${partial ? 'partial' : 'full'} resync to peer started`, {
      resource: this.c.resource,
      peer: this.c.peer,
      peerGeneration: dg.generation,
      bytes,
    })
    return true
  }

  /** The resync rate limit in bytes/s, 0 for none. */
  private get resyncSpeed(): number {
    return (this.c.resyncRateMiBs ?? 0) * 1048576
  }
  private speedArg(): { speed?: number } {
    return this.resyncSpeed > 0 ? { speed: this.resyncSpeed } : {}
  }

  /** The limit belongs to the resync's background copy only: the backup job of a partial resync (rs0),
   *  and the full mirror (m0) until it is ready. m0 of a partial resync (sync=none), and any m0 once
   *  ready, runs unlimited: in async mode its background copy carries the application's writes, which a
   *  limit would leave ever further behind (in sync mode a write is sent with it, never by the copy).
   *  Also applies a changed limit to a running job (block-job-set-speed, DRBD's live resync-rate). */
  private async applySpeed(q: QmpClient, jobs: Array<{ device: string; ready?: boolean; speed?: number }>): Promise<void> {
    const full = readJson<{ mode: string }>(this.resyncFile)?.mode === 'full'
    for (const j of jobs) {
      const want = j.device === 'rs0' || (j.device === 'm0' && full && !j.ready) ? this.resyncSpeed : j.device === 'm0' ? 0 : null
      if (want === null || (j.speed ?? 0) === want) continue
      await q
        .command('block-job-set-speed', { device: j.device, speed: want })
        .then(() => this.log('mirror: resync rate limit set', { resource: this.c.resource, job: j.device, bytesPerS: want }))
        .catch((e: unknown) => this.log('mirror: could not set the resync rate limit', { resource: this.c.resource, error: String(e) }))
    }
  }

  /** The 4 KiB block of one of the peer's record exports, copied by a backup job into a local file. */
  private async readPeerBlock(node: string): Promise<Buffer> {
    const q = this.qmp!
    const file = path.join(this.c.runDir, 'in.rec')
    fs.writeFileSync(file, Buffer.alloc(PEER_REC_BYTES))
    // A read cut short before (a failed tick) may have left its job and nodes: they would block this one.
    await q.command('job-cancel', { id: 'rd' }).catch(() => {})
    await q.command('job-dismiss', { id: 'rd' }).catch(() => {})
    await q.command('blockdev-del', { 'node-name': 'inrec' }).catch(() => {})
    await q.command('blockdev-del', { 'node-name': 'inrecf' }).catch(() => {})
    await q.command('blockdev-add', { driver: 'file', 'node-name': 'inrecf', filename: file })
    await q.command('blockdev-add', { driver: 'raw', 'node-name': 'inrec', file: 'inrecf' })
    try {
      await q.command('blockdev-backup', { 'job-id': 'rd', device: node, target: 'inrec', sync: 'full', 'auto-dismiss': false })
      const end = Date.now() + 10_000
      for (;;) {
        const j = (await this.ask<{ id: string; status: string; error?: string }[]>(q, 'query-jobs')).find((x) => x.id === 'rd')
        if (!j || j.status === 'concluded') {
          await q.command('job-dismiss', { id: 'rd' }).catch(() => {})
          if (j?.error) throw engineErr(this.c.resource, `reading the peer's ${node} record failed: ${j.error}`)
          break
        }
        if (Date.now() > end) throw engineErr(this.c.resource, `reading the peer's ${node} record took more than 10 s`)
        await sleep(20)
      }
    } finally {
      await q.command('job-cancel', { id: 'rd' }).catch(() => {})
      await q.command('blockdev-del', { 'node-name': 'inrec' }).catch(() => {})
      await q.command('blockdev-del', { 'node-name': 'inrecf' }).catch(() => {})
    }
    return fs.readFileSync(file)
  }

  /** Dirty bytes per bitmap of disk0. */
  private async bitmapCounts(): Promise<Record<string, number>> {
    const nodes = await this.ask<Array<{ 'node-name': string; 'dirty-bitmaps'?: Array<{ name: string; count: number }> }>>(
      this.qmp!,
      'query-named-block-nodes',
      { flat: true },
    )
    const d = nodes.find((n) => n['node-name'] === 'disk0')
    return Object.fromEntries((d?.['dirty-bitmaps'] ?? []).map((b) => [b.name, b.count]))
  }

  /** Starts a new tracking bitmap: the peer holds `since`; `keep` (the previous one) is kept, because
   *  a write in flight when the new one began may still be on its way to the peer. */
  private async addBitmaps(since: string | null, keep: string[]): Promise<void> {
    const q = this.qmp!
    const prev = readJson<{ since: string | null; names: string[]; seq: number }>(this.bitmapsFile)
    const seq = (prev?.seq ?? 0) + 1
    const name = `d${seq}`
    await q.command('block-dirty-bitmap-add', { node: 'disk0', name, granularity: BITMAP_GRANULARITY })
    const names = [...keep, name]
    for (const old of prev?.names ?? [])
      if (!names.includes(old)) await q.command('block-dirty-bitmap-remove', { node: 'disk0', name: old }).catch(() => {})
    writeFileAtomicSync(this.bitmapsFile, JSON.stringify({ since, names, seq, rotatedAt: Date.now() }) + '\n', 0o600)
  }

  private async splitBrain(peer: SplitBrain['peer'], how: string): Promise<void> {
    const gen = readGeneration(this.metaDir)!
    const counts = await this.bitmapCounts().catch(() => ({}) as Record<string, number>)
    const sb: SplitBrain = {
      detectedAt: new Date().toISOString(),
      local: {
        node: this.c.node,
        generation: gen.current,
        history: gen.history,
        dirtyBytes: Math.max(
          0,
          ...Object.entries(counts)
            .filter(([n]) => n !== 'rs')
            .map(([, c]) => c),
        ),
      },
      peer,
      how,
    }
    writeFileAtomicSync(this.splitBrainFile, JSON.stringify(sb) + '\n', 0o600)
    this.log('mirror: SPLIT BRAIN: both nodes wrote on their own; nothing is sent until `mccs mirror resolve`', {
      resource: this.c.resource,
      ...sb,
    })
  }

  /** A TCP connect to the peer from the daemon's network (with `wrap`, inside it: the lab's namespaces). */
  private async probePeer(): Promise<boolean> {
    if (!this.c.wrap?.length) return tcpProbe(this.c.peer.host, this.c.peer.port, 1000)
    // --norc: Node gives a child's stdin as a socket pair, and bash then takes itself for a remote
    // shell and sources ~/.bashrc first (a slow one, on a loaded host, outlasted the 1 s and every
    // probe failed: the peer stayed Disconnected).
    return run(
      [...this.c.wrap, 'timeout', '1', 'bash', '--norc', '--noprofile', '-c', `exec 3<>/dev/tcp/${this.c.peer.host}/${this.c.peer.port}`],
      3000,
    ).then(
      () => true,
      () => false,
    )
  }

  /** Writes the peer's record through its "meta" export: a backup job from a local 4 KiB file. */
  private async sendPeerRecord(r: PeerRecord): Promise<void> {
    const q = this.qmp!
    fs.writeFileSync(this.outRecFile, encodePeerRecord(r))
    await q.command('blockdev-del', { 'node-name': 'outrec' }).catch(() => {})
    await q.command('blockdev-del', { 'node-name': 'outrecf' }).catch(() => {})
    await q.command('blockdev-add', { driver: 'file', 'node-name': 'outrecf', filename: this.outRecFile })
    await q.command('blockdev-add', { driver: 'raw', 'node-name': 'outrec', file: 'outrecf', size: PEER_REC_BYTES })
    await q.command('job-cancel', { id: 'rec' }).catch(() => {}) // left by a write cut short
    await q.command('blockdev-backup', { 'job-id': 'rec', device: 'outrec', target: 'peermeta', sync: 'full', 'auto-dismiss': true })
    const end = Date.now() + 10_000
    for (;;) {
      const jobs = await this.ask<{ id: string; status: string; error?: string }[]>(q, 'query-jobs')
      const j = jobs.find((x) => x.id === 'rec')
      if (!j) break
      if (j.error) throw engineErr(this.c.resource, `writing the peer record failed: ${j.error}`)
      if (Date.now() > end) throw engineErr(this.c.resource, 'writing the peer record took more than 10 s')
      await sleep(20)
    }
    await q.command('blockdev-del', { 'node-name': 'outrec' }).catch(() => {})
    await q.command('blockdev-del', { 'node-name': 'outrecf' }).catch(() => {})
  }

  private async dropPeerNodes(): Promise<void> {
    for (const n of ['peer', 'peer2', 'peermeta', 'peerself']) await this.qmp?.command('blockdev-del', { 'node-name': n }).catch(() => {})
  }

  /** The partial resync's backup job: 'running', 'done' (dismissed, its nodes dropped), 'failed' or 'none'. */
  private async resyncJob(): Promise<'running' | 'done' | 'failed' | 'none'> {
    const q = this.qmp!
    const j = (await this.ask<{ id: string; status: string; error?: string }[]>(q, 'query-jobs')).find((x) => x.id === 'rs0')
    if (!j) return 'none'
    if (j.status !== 'concluded') return 'running'
    await q.command('job-dismiss', { id: 'rs0' }).catch(() => {})
    await q.command('blockdev-del', { 'node-name': 'peer2' }).catch(() => {})
    if (j.error) {
      this.log('mirror: partial resync failed', { resource: this.c.resource, error: j.error })
      return 'failed'
    }
    await q.command('block-dirty-bitmap-remove', { node: 'disk0', name: 'rs' }).catch(() => {})
    return 'done'
  }

  /** Primary housekeeping: declares the peer UpToDate once the mirror is ready; notices a lost peer
   *  (the job ended) and starts a new generation; reconnects when the peer is back. */
  private async tick(): Promise<void | 'ask-peer'> {
    const q = this.qmp
    if (!q) return
    if (!(await this.procs.status(this.procRes, 'qsd')).running) {
      // The daemon died (a fence that spares the agent, a crash): its monitor will never answer, and a
      // question to it held the volume's lock for the QMP timeout, delaying the next role change.
      this.log('mirror: the daemon is gone; replication checks stop', { resource: this.c.resource })
      this.stopTimer()
      q.close()
      if (this.qmp === q) this.qmp = null
      return
    }
    // Stopped: a question would only wait its deadline (status reports it without asking).
    if (procState((await this.procs.status(this.procRes, 'qsd')).pid) === 'T') return
    const jobs = await this.ask<{ device: string; ready: boolean; status: string; speed?: number }[]>(q, 'query-block-jobs')
    const m = jobs.find((j) => j.device === 'm0')
    const state = fs.existsSync(path.join(this.c.runDir, 'peer-uptodate')) ? 'declared' : 'not'
    if (this.suspended) return this.whileSuspended(m)
    await this.applySpeed(q, jobs)
    if (m) {
      // A lost link is silent (a write to the peer just hangs until TCP gives up, minutes later): ask the
      // kernel, in the daemon's own namespace, whether its connection to the peer is retransmitting.
      const d = await this.procs.status(this.procRes, 'qsd')
      const tcp = d.pid ? tcpToPeer(d.pid, this.c.peer.port) : { established: 1, worst: 0 }
      const rto = tcp.worst
      this.probeFails = rto >= 3 ? this.probeFails + 1 : 0
      if (this.probeFails >= 2)
        return this.peerLost(
          `the peer ${this.c.peer.host}:${this.c.peer.port} stopped acknowledging (${rto} retransmission timeouts in a row)`,
        )
      // No connection to the peer left (its daemon died: qsd's NBD client saw the close): an idle job
      // never fails, so without this the pair said Connected until the next write. Nothing is held:
      // a write now fails fast on the peer and completes locally.
      this.closedTicks = tcp.established === 0 ? this.closedTicks + 1 : 0
      if (this.closedTicks >= 2) {
        this.closedTicks = 0
        return this.peerLost(`the connections to the peer ${this.c.peer.host}:${this.c.peer.port} closed (its daemon stopped?)`, false)
      }
    }
    if (m?.ready && state === 'not') {
      const rs = await this.resyncJob()
      if (rs === 'running') return
      if (rs === 'failed') return this.peerLost('the partial resync failed (the connection to the peer failed)', false)
      const gen = readGeneration(this.metaDir)!
      await this.sendPeerRecord({ state: 'UpToDate', generation: gen.current, by: this.c.node, at: new Date().toISOString() })
      fs.writeFileSync(path.join(this.c.runDir, 'peer-uptodate'), gen.current + '\n')
      fs.rmSync(this.outdatedFile, { force: true })
      fs.rmSync(this.resyncFile, { force: true })
      const bm = readJson<{ names: string[] }>(this.bitmapsFile)
      await this.addBitmaps(gen.current, bm?.names.slice(-1) ?? [])
      this.log('mirror: peer up to date', { resource: this.c.resource, generation: gen.current })
    } else if (m?.ready && state === 'declared') {
      // In sync for a while: the older bitmap holds only writes the peer acknowledged long ago (a write
      // stuck that long would have been seen as a lost peer): drop it, so a later flap resends less.
      const bm = readJson<{ since: string | null; names: string[]; rotatedAt?: number }>(this.bitmapsFile)
      if (bm && bm.names.length > 1 && Date.now() - (bm.rotatedAt ?? 0) > BITMAP_ROTATE_MS)
        await this.addBitmaps(bm.since, bm.names.slice(-1))
    } else if (!m && state === 'declared') {
      // The connection failed fast (the peer's daemon is gone: RST): qsd completed the writes locally
      // already; nothing can be held. The peer, whose daemon is down, counts itself Outdated when it
      // starts again or is asked to become primary (becomePrimary).
      await this.peerLost('the mirror job ended (the connection to the peer failed)', false)
    } else if (!m) {
      // Whether the peer is primary too is asked after the tick, outside the volume's lock (see startTimer).
      if (!(await this.connectPeer()) && !fs.existsSync(this.splitBrainFile)) return 'ask-peer'
    }
  }

  /** The peer is gone: record it (new generation, peer outdated) BEFORE writes go on without it. The
   *  writes waiting on the dead connection stay held (DRBD: fencing resource-and-stonith, I/O suspended)
   *  until the peer is known not to become primary with what it has: outdated over the cluster's own
   *  channel, or fenced. Only then is the stuck connection cut so they complete locally. */
  private async peerLost(reason: string, held = true): Promise<void> {
    this.probeFails = 0
    const declared = fs.existsSync(path.join(this.c.runDir, 'peer-uptodate'))
    const gen = readGeneration(this.metaDir)
    const next = declared ? bumped(gen) : gen!
    if (declared) writeGeneration(this.metaDir, next)
    const rec: PeerOutdated = {
      peer: `${this.c.peer.host}:${this.c.peer.port}`,
      generation: declared ? (gen?.current ?? null) : null,
      newGeneration: next.current,
      since: new Date().toISOString(),
      reason,
    }
    writeFileAtomicSync(this.outdatedFile, JSON.stringify(rec) + '\n', 0o600)
    fs.rmSync(path.join(this.c.runDir, 'peer-uptodate'), { force: true })
    this.log('mirror: peer lost; it is outdated from now on', { resource: this.c.resource, ...rec })
    const peerRec: PeerRecord = {
      state: 'Outdated',
      generation: rec.generation,
      by: this.c.node,
      at: rec.since,
      reason: `${this.c.node} lost the replication link and goes on without this node (${reason})`,
    }
    if (!(await this.peerSafe(peerRec)) && held) {
      // Writes wait on the dead connection: nothing is acknowledged that the peer could miss. The
      // tick asks again (and lets go once the peer is outdated or fenced).
      this.suspended = { since: rec.since, reason: `writes held: the peer is neither outdated nor fenced yet (${reason})`, rec: peerRec }
      this.log('mirror: writes suspended until the peer is outdated or fenced', { resource: this.c.resource, reason })
      return
    }
    await this.release()
  }

  /** The peer cannot become primary with what it has: it recorded Outdated (over the cluster's own
   *  channel), or it is fenced. Bounded: the tick runs under the volume's lock. */
  private async peerSafe(rec: PeerRecord): Promise<boolean> {
    if (await this.hooks.peerFenced?.()) {
      this.log('mirror: the peer is fenced', { resource: this.c.resource })
      return true
    }
    if (!this.hooks.outdatePeer) return false
    let timer: NodeJS.Timeout | undefined
    try {
      await Promise.race([
        this.hooks.outdatePeer(rec),
        new Promise((_r, reject) => {
          timer = setTimeout(() => reject(new Error('no answer within 3 s')), 3000)
        }),
      ])
      this.log('mirror: the peer recorded Outdated', { resource: this.c.resource, generation: rec.generation })
      return true
    } catch (e) {
      this.log('mirror: the peer could not be outdated', { resource: this.c.resource, error: String(e) })
      return false
    } finally {
      clearTimeout(timer)
    }
  }

  /** Suspended: let go once the peer is safe; resume as before if the link came back meanwhile. */
  private async whileSuspended(m: { device: string; ready: boolean } | undefined): Promise<void> {
    const s = this.suspended!
    const d = await this.procs.status(this.procRes, 'qsd')
    const tcp = d.pid ? tcpToPeer(d.pid, this.c.peer.port) : { established: 0, worst: 1 }
    if (m && tcp.established > 0 && tcp.worst === 0) {
      // The peer acknowledged again: the held writes reached it. Declared again at the next tick with
      // the new generation (the peer has every write).
      this.suspended = null
      fs.rmSync(this.outdatedFile, { force: true })
      this.log('mirror: the peer answers again; writes resume replicated', { resource: this.c.resource })
      return
    }
    if (!(await this.peerSafe(s.rec))) return
    this.suspended = null
    await this.release()
  }

  /** Cuts the stuck connection to the peer: the writes waiting on it complete locally. */
  private async release(): Promise<void> {
    const q = this.qmp!
    // qsd has no `yank`, and cancelling the job would drain the stuck request inside qsd's main loop
    // (its monitor hangs): abort the TCP connection from the kernel (ss -K, SOCK_DESTROY) in the
    // daemon's namespace; the waiting writes then fail on the peer only and complete locally.
    await run([...(this.c.wrap ?? []), 'ss', '-t', '-K', 'dst', this.c.peer.host, 'dport', '=', `:${this.c.peer.port}`], 5000).catch(
      (e: unknown) => this.log('mirror: could not abort the connection to the peer', { resource: this.c.resource, error: String(e) }),
    )
    const end = Date.now() + 5000
    while (Date.now() < end) {
      const jobs = await this.ask<{ device: string }[]>(q, 'query-block-jobs')
      if (!jobs.some((j) => j.device === 'm0')) break
      await sleep(50)
    }
    const left = await this.ask<{ device: string }[]>(q, 'query-block-jobs')
    if (left.some((j) => j.device === 'm0')) await q.command('block-job-cancel', { device: 'm0', force: true }).catch(() => {})
    await q.command('job-dismiss', { id: 'm0' }).catch(() => {})
    await q.command('block-job-cancel', { device: 'rs0', force: true }).catch(() => {})
    await q.command('job-dismiss', { id: 'rs0' }).catch(() => {})
    await q.command('block-dirty-bitmap-remove', { node: 'disk0', name: 'rs' }).catch(() => {})
    fs.rmSync(this.resyncFile, { force: true })
    await this.dropPeerNodes()
  }

  /** Disconnected: is the peer primary too (both wrote on their own)? Asked over the cluster's channel,
   *  NOT under this volume's lock: the peer answers under its own lock, and its tick may at that moment
   *  be asking this node the same (each then waited for the other until its timeout, every time: the
   *  split brain went unseen). The answer is recorded under the lock, if this side is still disconnected. */
  private async checkPeerPrimary(): Promise<void> {
    if (!this.hooks.peerStatus) return
    const p = await Promise.race([this.hooks.peerStatus(), sleep(3000).then(() => null)]).catch(() => null)
    if (!p || p.role !== 'primary' || !p.generation) return
    const pg = p.generation
    await this.serial(async () => {
      const q = this.qmp
      if (!q || this.currentRole() !== 'primary' || fs.existsSync(this.splitBrainFile)) return
      if ((await this.ask<{ device: string }[]>(q, 'query-block-jobs')).some((j) => j.device === 'm0')) return
      const gen = readGeneration(this.metaDir)!
      if (gen.current === pg.current) return
      await this.splitBrain(
        { node: p.node ?? null, generation: pg.current, history: pg.history, dirtyBytes: p.dirtyBytes, role: p.role },
        `the peer is primary too, with generation ${pg.current}`,
      )
    })
  }

  /** Why this secondary (declared UpToDate at generation G, no handover) may take over although the last
   *  primary is not fenced, or null. Its agent answers over the cluster's channel that its copy is not
   *  primary now and still at G: a primary that goes on without its peer starts a new generation first
   *  (peerLost), so it wrote nothing acknowledged that this copy lacks; and a copy that stopped as primary
   *  without a clean demotion refuses to become primary without force (mayPromote). Without this, a failed
   *  offline ended with its node fenced and back (a restart counted at once in membership) left both
   *  copies refusing: that one for its crash, this one for want of a fence. */
  private async lastPrimaryStopped(rec: PeerRecord): Promise<string | null> {
    if (!this.hooks.peerStatus) return null
    const p = await Promise.race([this.hooks.peerStatus(), sleep(3000).then(() => null)]).catch(() => null)
    if (!p || p.role === 'primary' || p.generation?.current !== rec.generation) return null
    return `the last primary (${rec.by ?? '?'}) declared this node up to date with generation ${rec.generation} and its agent reports its copy ${p.role}, still at that generation: it wrote nothing without this node`
  }

  /** Clean demotion while in sync: tells the peer it holds every write and no more will come. */
  private async handOver(): Promise<void> {
    if (!this.qmp || !fs.existsSync(path.join(this.c.runDir, 'peer-uptodate'))) return
    const jobs = await this.ask<{ device: string; ready: boolean }[]>(this.qmp, 'query-block-jobs').catch(() => [])
    if (!jobs.find((j) => j.device === 'm0')?.ready) return
    const gen = readGeneration(this.metaDir)!
    await this.sendPeerRecord({
      state: 'UpToDate',
      generation: gen.current,
      by: this.c.node,
      at: new Date().toISOString(),
      reason: 'the primary handed over (clean demotion while in sync)',
      handover: true,
    }).catch((e: unknown) => this.log('mirror: handover record not written', { resource: this.c.resource, error: String(e) }))
  }

  private startTimer(): void {
    this.stopTimer()
    this.timer = setInterval(() => {
      // A slow tick (a probe, the peer's answer) is not queued again and again behind itself: the
      // backlog would delay every status and operator action of this volume.
      if (this.ticking) return
      this.ticking = true
      void this.serial(() => this.tick())
        .then((next) => (next === 'ask-peer' ? this.checkPeerPrimary() : undefined))
        .catch((e: unknown) => this.log('mirror: tick failed', { error: String(e) }))
        .finally(() => {
          this.ticking = false
        })
    }, 500)
    this.timer.unref()
  }
  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
  }

  /** Waits until the peer has been declared up to date (tests, `mccs mirror status --wait`). */
  async waitInSync(ms: number): Promise<void> {
    const end = Date.now() + ms
    while (!fs.existsSync(path.join(this.c.runDir, 'peer-uptodate'))) {
      if (Date.now() > end)
        throw engineErr(this.c.resource, `the peer was not in sync within ${ms} ms`, {
          status: (await this.status()) as unknown as Record<string, unknown>,
        })
      await sleep(100)
    }
  }

  private get attachFile(): string {
    return path.join(this.c.runDir, 'attach.json')
  }
  private attachedDevice(): string | null {
    return readRecord(this.attachFile)?.device ?? null
  }

  /** The loop device an earlier run of this volume left attached (killed with its daemons: nothing else
   *  would ever detach it, see loop.ts) is detached, if it is provably that attachment and not the live
   *  attach of this volume; the record goes either way. */
  private async dropStale(): Promise<void> {
    const r = readRecord(this.attachFile)
    if (!r) return
    const rec = r.rec
    if (rec && sameAttachment(rec) && !(this.ownsLoop(r.device) && (await this.fuseLive()))) {
      const backing = loopBacking(r.device)
      await loopDetach(r.device, () => sameAttachment(rec))
      this.log('mirror: detached the loop device an earlier run of this volume left', {
        resource: this.c.resource,
        device: r.device,
        backing,
      })
    }
    fs.rmSync(this.attachFile, { force: true })
  }

  /** Called once the volume's file system is mounted: marks the loop device autoclear, so the kernel
   *  detaches it at the last unmount, wherever and however that happens (loop.ts). `losetup -d` on a
   *  held device does only that; on one not held (not mounted after all) it would detach it: not asked. */
  armAutoclear(dev: string): Promise<void> {
    return this.serial(async () => {
      if (!this.ownsLoop(dev) || autoclearSet(dev) || !claimed(dev)) return
      await loopDetach(dev, () => this.ownsLoop(dev))
    })
  }

  /** Primary only: the volume as a local block device (nbdfuse + loop). Idempotent. */
  attach(): Promise<string> {
    return this.serial(async () => {
      if (this.currentRole() !== 'primary')
        throw new MccsError('MCCS_ERR_MIRROR_ROLE', 'attach needs this node to be primary', { subject: this.c.resource })
      const have = this.attachedDevice()
      if (have && loopBacking(have) === this.fuseFile) return have
      fs.mkdirSync(this.fuseDir, { recursive: true, mode: 0o700 })
      if (!mounted(this.fuseDir)) {
        await this.procs.start(this.procRes, { name: 'nbdfuse', argv: [NBDFUSE, this.fuseFile, `nbd+unix:///vol?socket=${this.nbdSock}`] })
        const end = Date.now() + 10_000
        while (!(mounted(this.fuseDir) && fs.existsSync(this.fuseFile))) {
          const s = await this.procs.status(this.procRes, 'nbdfuse')
          if (!s.running) throw engineErr(this.c.resource, `nbdfuse exited at start (see ${s.logFile})`)
          if (Date.now() > end) throw engineErr(this.c.resource, 'nbdfuse did not mount within 10 s')
          await sleep(20)
        }
      }
      await this.dropStale()
      // Direct I/O: the loop device passes its requests on concurrently (asynchronous O_DIRECT writes to
      // the FUSE file) instead of one buffered write at a time, so a sync write's mirror round trip is
      // no longer paid once per request in a row: 4 KiB random writes QD16 through the sync mirror
      // 1.2-2.0k -> 3.5-4.9k IOPS, and each replicated write costs the daemons a third less CPU
      // (scripts/bench/mirror-profile.ts, docs/BENCHMARKS.md). What a flush or a write means is unchanged.
      const dev = (await run(['losetup', '--direct-io=on', '--find', '--show', this.fuseFile])).trim()
      if (!/^\/dev\/loop\d+$/.test(dev)) throw engineErr(this.c.resource, `losetup answered ${JSON.stringify(dev)}`)
      recordAttach(this.attachFile, dev, this.fuseFile)
      return dev
    })
  }

  /** Whether the FUSE file is served: mounted here, or in the mount namespace of the running nbdfuse (an
   *  earlier agent started it in its own namespace, and it outlived that agent). */
  private async fuseLive(): Promise<boolean> {
    if (mounted(this.fuseDir)) return true
    const f = await this.procs.status(this.procRes, 'nbdfuse')
    return f.running && f.pid !== null && mountedInNsOf(f.pid, this.fuseDir)
  }

  /** Whether loop device `dev` is this volume's: its backing file is the FUSE file (sysfs names it as
   *  seen from the namespace that mounted it, the same path here). */
  private ownsLoop(dev: string): boolean {
    return loopBacking(dev) === this.fuseFile
  }

  /** After an agent restart, the primary daemon its predecessor started runs on, but this object has no
   *  monitor connection and no replication checks: a clean demotion could not hand over (the peer
   *  would then refuse to take over without force), nor would a lost peer be seen. Takes both up. */
  private async adopt(): Promise<void> {
    if (this.qmp || this.currentRole() !== 'primary' || !fs.existsSync(this.qmpSock)) return
    const d = await this.procs.status(this.procRes, 'qsd')
    if (!d.running || procState(d.pid) === 'T') return // stopped: it would never greet
    const q = new QmpClient(this.qmpSock)
    try {
      await q.connect(STATUS_QMP_MS)
    } catch (e) {
      q.close()
      this.log('mirror: the running primary daemon could not be adopted', { resource: this.c.resource, error: String(e) })
      return
    }
    this.qmp = q
    this.startTimer()
    this.log('mirror: adopted the running primary daemon', { resource: this.c.resource, pid: d.pid })
  }

  /** Removes the loop device and the FUSE mount (the file system must be unmounted first). */
  detach(): Promise<void> {
    return this.serial(async () => {
      const dev = this.attachedDevice()
      // losetup -d on a device still in use only marks it for autoclear and answers 0: the file system
      // (mounted here or in another mount namespace) would live on over a volume going secondary.
      if (dev && this.ownsLoop(dev)) {
        assertReleased(dev)
        await loopDetach(dev, () => this.ownsLoop(dev))
      } else await this.dropStale()
      fs.rmSync(this.attachFile, { force: true })
      await this.procs.stop(this.procRes, 'nbdfuse', { graceMs: 5000 })
      // Here, and in the namespace of an earlier agent whose nbdfuse made it (a restart in between).
      await unmountPathEverywhere(this.fuseDir)
    })
  }

  /** Everything of this volume stopped on this node (clean / agent shutdown of a removed resource). */
  async stop(): Promise<void> {
    await this.detach()
    await this.serial(() => this.stopDaemon())
  }

  /** Lets go of this volume's timer and monitor connection; the daemons keep running (agent exit). */
  close(): void {
    this.stopTimer()
    this.qmp?.close()
    this.qmp = null
  }

  /** SHA-256 (first 16 bytes, hex) of chunks `indexes` of this node's copy, read from the backing file
   *  (qsd writes through the page cache: what it acknowledged is what a read sees). For verify: only
   *  the checksums cross the network. */
  async checksums(chunk: number, indexes: number[]): Promise<{ size: number; chunk: number; sums: Array<string | null> }> {
    if (!Number.isInteger(chunk) || chunk < 4096 || chunk > 16 << 20 || (chunk & (chunk - 1)) !== 0)
      throw bad('chunk', 'must be a power of two from 4 KiB to 16 MiB')
    if (!Array.isArray(indexes) || indexes.length > 4096 || indexes.some((i) => !Number.isInteger(i) || i < 0))
      throw bad('indexes', 'must be at most 4096 chunk indexes (integers ≥ 0)')
    const fh = await fs.promises.open(this.c.backing, 'r')
    try {
      const size = await backingSize(fh, this.c.backing)
      const buf = Buffer.alloc(chunk)
      const sums: Array<string | null> = []
      for (const i of indexes) {
        if (i * chunk >= size) {
          sums.push(null)
          continue
        }
        const { bytesRead } = await fh.read(buf, 0, Math.min(chunk, size - i * chunk), i * chunk)
        sums.push(crypto.createHash('sha256').update(buf.subarray(0, bytesRead)).digest('hex').slice(0, 32))
      }
      return { size, chunk, sums }
    } finally {
      await fh.close()
    }
  }

  async status(): Promise<VolumeStatus> {
    // A stopped daemon answers nothing, and a replication check already asking it holds the lock until
    // its question's deadline: reported at once, from files and /proc only, without the lock.
    // Likewise one still in state D after a question went unanswered (a hung disk): not asked again
    // (each try would cost the deadline) until it leaves D.
    const d = await this.procs.status(this.procRes, 'qsd')
    if (this.stuckState(d)) return this.statusNow(false)
    return this.serial(() => this.statusNow())
  }

  /** `ask`: false to read only files and /proc (no monitor question, no adopt). */
  private async statusNow(ask = true): Promise<VolumeStatus> {
    if (ask) await this.adopt()
    const d = await this.procs.status(this.procRes, 'qsd')
    const role = d.running ? this.currentRole() : 'down'
    const pstate = d.running ? procState(d.pid) : null
    const misses = this.misses
    let replication: VolumeStatus['replication'] = null
    if (role === 'primary' && this.qmp && ask) {
      const jobs = await this.ask<Record<string, unknown>[]>(this.qmp, 'query-block-jobs').catch(() => [])
      const m = jobs.find((j) => j.device === 'm0') ?? null
      const declared = fs.existsSync(path.join(this.c.runDir, 'peer-uptodate'))
      const len = Number(m?.len ?? 0)
      replication = {
        state: this.suspended ? 'Suspended' : !m ? 'Disconnected' : m.ready && declared ? 'Connected' : 'SyncSource',
        percent: m && len > 0 ? Math.floor((Number(m.offset) / len) * 100) : null,
        job: m,
        ...(this.suspended ? { suspended: { since: this.suspended.since, reason: this.suspended.reason } } : {}),
      }
    }
    let dirtyBytes: number | null = null
    if (role === 'primary' && this.qmp && ask) {
      const counts = await this.bitmapCounts().catch(() => ({}) as Record<string, number>)
      const names = readJson<{ names: string[] }>(this.bitmapsFile)?.names ?? []
      dirtyBytes = Math.max(0, ...names.map((n) => counts[n] ?? 0))
      const rs = readJson<{ mode: 'partial' | 'full'; bytes: number; startedAt: string }>(this.resyncFile)
      if (replication && rs && replication.state === 'SyncSource') {
        const jobs = await this.ask<Array<{ id: string; 'current-progress'?: number; 'total-progress'?: number }>>(
          this.qmp,
          'query-jobs',
        ).catch(() => [])
        const j = jobs.find((x) => x.id === (rs.mode === 'partial' ? 'rs0' : 'm0'))
        const total = Number(j?.['total-progress'] ?? 0)
        const done = Number(j?.['current-progress'] ?? 0)
        const secs = (Date.now() - Date.parse(rs.startedAt)) / 1000
        const rate = secs > 0.5 && done > 0 ? done / secs : null
        replication.resync = {
          mode: rs.mode,
          bytes: total,
          done,
          rateBps: rate ? Math.round(rate) : null,
          etaS: rate ? Math.round((total - done) / rate) : null,
          startedAt: rs.startedAt,
          limitBps: this.resyncSpeed || null,
        }
        if (total > 0) replication.percent = Math.floor((done / total) * 100)
      }
    }
    const splitBrain = readJson<SplitBrain>(this.splitBrainFile)
    if (replication && splitBrain && replication.state === 'Disconnected') replication.state = 'SplitBrain'
    const dev = this.attachedDevice()
    let attached: VolumeStatus['attached'] = null
    if (dev) {
      const ok = this.ownsLoop(dev) && (await this.fuseLive())
      const majMin = ok ? deviceNumber(dev) : null
      const elsewhere = majMin ? mountsOf(majMin).filter((m) => m.pid !== process.pid) : []
      attached = { device: dev, ok, mountedElsewhere: [...new Set(elsewhere.map((m) => m.mountPoint))] }
    }
    return {
      resource: this.c.resource,
      node: this.c.node,
      role,
      dirtyBytes,
      splitBrain,
      daemon: {
        running: d.running,
        pid: d.pid,
        state: pstate,
        answering:
          role !== 'primary'
            ? null
            : pstate === 'T' || pstate === 't' || this.unanswered || this.misses > misses || !this.qmp
              ? false
              : true,
        stuck: this.stuckState(d) !== null,
      },
      generation: readGeneration(this.metaDir),
      peerRecord: readPeerRecord(this.peerRecFile),
      peerOutdated: readJson<PeerOutdated>(this.outdatedFile),
      replication,
      attached,
    }
  }
}

export { withQmp }
