// The quorum server (`mccs quorum-server`): a tie-breaker vote for clusters that cannot make a majority
// alone (two nodes, or an even split), in the manner of corosync-qnetd with the ffsplit algorithm.
// One server serves many clusters independently; the protocol and the vote rule are described in
// quorum-protocol.ts.
//
// State folder (`--dir`):
//   tls/ca.crt, tls/ca.key, tls/server.crt, tls/server.key   made by tls.ts on first start (keys 0600);
//                                   copy tls/ca.crt to the cluster nodes: their clients pin it
//   clusters/<cluster>.key          one quorum key per cluster (0600), made by `mccs quorum-server add-cluster`;
//                                   read at each login, so adding or removing a cluster needs no restart
//   quorum-server.sock              local control socket (0600): `mccs quorum-server status`
import { EventEmitter } from 'node:events'
import { randomBytes } from 'node:crypto'
import { mkdir, readFile, readdir, rm, chmod, lstat, unlink } from 'node:fs/promises'
import net from 'node:net'
import path from 'node:path'
import tls from 'node:tls'
import { MccsError, isMccsError } from '../errors.js'
import { writeFileAtomic } from '../config/atomic.js'
import type { HostLogger } from '../log/types.js'
import { ensureTlsMaterial, type TlsOptions } from './tls.js'
import { readLines } from '../line-reader.js'
import {
  KEY_RE,
  MAX_LINE,
  NAME_RE,
  PROTOCOL_VERSION,
  QUORUM_PORT,
  authMac,
  choosePartition,
  macEqual,
  parseClientMsg,
  partitionKey,
  type ServerMsg,
  type Vote,
} from './quorum-protocol.js'

export interface QuorumServerOptions {
  /** State folder (TLS material, cluster keys, control socket). */
  dir: string
  /** TCP port (default 14322; 0 picks a free one). */
  port?: number
  /** Listen address (default 0.0.0.0). */
  host?: string
  /** How often clients report (told to them at login). Default 1000 ms. */
  intervalMs?: number
  /** A node not heard from for this long is forgotten and loses its part of the vote. Default 5 × interval. */
  timeoutMs?: number
  /** An unauthenticated connection is closed after this long. Default 5000 ms. */
  authTimeoutMs?: number
  /** TLS material: given PEMs, or options for making it in `<dir>/tls`. */
  tls?: { key: string; cert: string } | TlsOptions
  /** Control socket path; false for none. Default `<dir>/quorum-server.sock`. */
  controlSocket?: string | false
  log?: HostLogger
  /** Clock (monotonic ms), for tests. */
  now?: () => number
}

export interface QuorumClientStatus {
  node: string
  connected: boolean
  address: string | null
  partition: string[]
  vote: Vote | null
  lastReportMsAgo: number | null
  /** The timing in force for this client (asked for at login, else the server's). */
  intervalMs: number
  timeoutMs: number
  connectedSince: string | null
}
export interface QuorumClusterStatus {
  name: string
  /** A key file exists for it. */
  configured: boolean
  holder: string[] | null
  holderSince: string | null
  /** The holder is chosen but waits for another partition to give the vote up. */
  pending: boolean
  partitions: Array<{ nodes: string[]; reportedBy: string[]; vote: boolean }>
  clients: QuorumClientStatus[]
}
export interface QuorumServerStatus {
  server: {
    address: string
    port: number
    intervalMs: number
    timeoutMs: number
    startedAt: string
    caFingerprint: string | null
    pid: number
  }
  clusters: QuorumClusterStatus[]
}

interface Conn {
  socket: tls.TLSSocket
  address: string
  nonce: string
  rec: NodeRec | null
  closed: boolean
}
interface NodeRec {
  cluster: string
  node: string
  conn: Conn | null
  connectedSince: number | null
  partition: string[] | null
  key: string | null
  lastSeen: number
  seq: number
  vseq: number
  lastSent: Vote | null
  /** vseq of the "denied" that revoked a grant; 0 when no grant is outstanding. */
  revokeSeq: number
  /** Told "granted" and not yet shown (by `ack`) that it read a later "denied". */
  grantOutstanding: boolean
  /** The timing in force for this node: what it asked for at login, else the server's own. */
  intervalMs: number
  timeoutMs: number
}
interface ClusterState {
  name: string
  nodes: Map<string, NodeRec>
  holder: string[] | null
  holderSince: number | null
  pending: boolean
}

const nullLog: HostLogger = { log: () => {} }

export const clusterKeyFile = (dir: string, cluster: string): string => path.join(dir, 'clusters', `${cluster}.key`)

function checkClusterName(name: string): void {
  if (!NAME_RE.test(name))
    throw new MccsError('MCCS_ERR_INVALID', `'${name}' is not a cluster name (${NAME_RE.source})`, { field: 'cluster' })
}

/** Adds a cluster: writes its quorum key (0600). Returns the key (generated unless given). */
export async function addCluster(dir: string, cluster: string, key?: string, opts: { force?: boolean } = {}): Promise<string> {
  checkClusterName(cluster)
  const k = key ?? randomBytes(32).toString('hex')
  if (!KEY_RE.test(k))
    throw new MccsError('MCCS_ERR_INVALID', 'a quorum key is 32..512 printable characters without spaces', { field: 'key' })
  const file = clusterKeyFile(dir, cluster)
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 })
  if (
    !opts.force &&
    (await lstat(file).then(
      () => true,
      () => false,
    ))
  ) {
    throw new MccsError('MCCS_ERR_CONFLICT', `cluster '${cluster}' already has a key (${file}); use --force to replace it`, {
      field: 'cluster',
    })
  }
  await writeFileAtomic(file, k + '\n', 0o600)
  return k
}

export async function removeCluster(dir: string, cluster: string): Promise<void> {
  checkClusterName(cluster)
  await rm(clusterKeyFile(dir, cluster), { force: true })
}

export async function listClusters(dir: string): Promise<string[]> {
  const names = await readdir(path.join(dir, 'clusters')).catch(() => [] as string[])
  return names
    .filter((n) => n.endsWith('.key'))
    .map((n) => n.slice(0, -4))
    .filter((n) => NAME_RE.test(n))
    .sort()
}

async function readKey(dir: string, cluster: string): Promise<string | undefined> {
  try {
    const k = (await readFile(clusterKeyFile(dir, cluster), 'utf8')).trim()
    return KEY_RE.test(k) ? k : undefined
  } catch {
    return undefined
  }
}

export class QuorumServer extends EventEmitter {
  private readonly clusters = new Map<string, ClusterState>()
  private readonly conns = new Set<Conn>()
  private server: tls.Server | null = null
  private control: net.Server | null = null
  private controlPath: string | null = null
  private timer: NodeJS.Timeout | null = null
  private readonly log: HostLogger
  private readonly now: () => number
  readonly intervalMs: number
  readonly timeoutMs: number
  private readonly authTimeoutMs: number
  private caFingerprint: string | null = null
  private startedAt = new Date()
  port = 0
  address = ''

  private constructor(private readonly opts: QuorumServerOptions) {
    super()
    this.log = opts.log ?? nullLog
    this.now = opts.now ?? (() => performance.now())
    this.intervalMs = opts.intervalMs ?? 1000
    this.timeoutMs = opts.timeoutMs ?? 5 * this.intervalMs
    this.authTimeoutMs = opts.authTimeoutMs ?? 5000
    if (!(this.intervalMs > 0) || !(this.timeoutMs > this.intervalMs)) {
      throw new MccsError('MCCS_ERR_INVALID', `timeout (${this.timeoutMs} ms) must exceed the report interval (${this.intervalMs} ms)`, {
        field: 'timeoutMs',
      })
    }
  }

  static async start(opts: QuorumServerOptions): Promise<QuorumServer> {
    const s = new QuorumServer(opts)
    try {
      await s.listen()
    } catch (err) {
      await s.close()
      throw err
    }
    return s
  }

  private async listen(): Promise<void> {
    const { dir } = this.opts
    await mkdir(dir, { recursive: true, mode: 0o700 })
    let key: string, cert: string
    const t = this.opts.tls
    if (t && 'key' in t && 'cert' in t) {
      ;({ key, cert } = t)
    } else {
      const m = await ensureTlsMaterial(path.join(dir, 'tls'), { label: 'quorum server', ...(t ?? {}) })
      ;({ key, cert } = m)
      this.caFingerprint = m.caFingerprint
      if (m.created.ca)
        this.log.log('info', 'quorum server: new CA made; copy it to the cluster nodes', { ca: m.caCertFile, fingerprint: m.caFingerprint })
    }
    const server = tls.createServer({ key, cert, minVersion: 'TLSv1.2' }, (socket) => this.onConnection(socket))
    server.maxConnections = 4096
    server.on('tlsClientError', (err, socket) => {
      this.log.log('warn', 'quorum server: TLS handshake failed', { from: socket.remoteAddress, error: err.message })
      socket.destroy()
    })
    server.on('error', (err) => this.log.log('error', 'quorum server: listener error', { error: err.message }))
    this.server = server
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.opts.port ?? QUORUM_PORT, this.opts.host ?? '0.0.0.0', () => {
        server.off('error', reject)
        resolve()
      })
    })
    const a = server.address() as net.AddressInfo
    this.port = a.port
    this.address = a.address
    if (this.opts.controlSocket !== false) await this.listenControl(this.opts.controlSocket ?? path.join(dir, 'quorum-server.sock'))
    this.armTick(this.timeoutMs)
    this.startedAt = new Date()
    this.log.log('info', 'quorum server listening', {
      address: this.address,
      port: this.port,
      intervalMs: this.intervalMs,
      timeoutMs: this.timeoutMs,
    })
  }

  /** The timeout check runs at least four times per shortest timeout in force (a lost node is forgotten
   *  within a quarter of its timeout of the moment it is due). */
  private tickMs = Infinity
  private armTick(timeoutMs: number): void {
    const tick = Math.max(10, Math.min(this.intervalMs, timeoutMs / 4))
    if (tick >= this.tickMs && this.timer) return
    if (this.timer) clearInterval(this.timer)
    this.tickMs = tick
    this.timer = setInterval(() => {
      for (const c of this.clusters.values()) this.evaluate(c)
    }, tick)
    this.timer.unref()
  }

  private async listenControl(file: string): Promise<void> {
    if (Buffer.byteLength(file) > 107) {
      throw new MccsError('MCCS_ERR_INVALID', `control socket path is longer than 107 bytes: ${file}`, { field: 'controlSocket' })
    }
    // A socket file left by a dead server is removed; a live server in the same folder is a conflict.
    const st = await lstat(file).catch(() => null)
    if (st) {
      const alive = await new Promise<boolean>((resolve) => {
        const c = net.connect(file)
        c.once('connect', () => {
          c.destroy()
          resolve(true)
        })
        c.once('error', () => resolve(false))
      })
      if (alive)
        throw new MccsError('MCCS_ERR_CONFLICT', `another quorum server is running with this folder (${file} answers)`, { field: 'dir' })
      if (!st.isSocket()) throw new MccsError('MCCS_ERR_CONFLICT', `${file} exists and is not a socket`, { field: 'controlSocket' })
      await unlink(file)
    }
    const control = net.createServer((sock) => this.onControl(sock))
    control.on('error', (err) => this.log.log('error', 'quorum server: control socket error', { error: err.message }))
    await new Promise<void>((resolve, reject) => {
      control.once('error', reject)
      control.listen(file, () => {
        control.off('error', reject)
        resolve()
      })
    })
    await chmod(file, 0o600)
    this.control = control
    this.controlPath = file
  }

  private onControl(sock: net.Socket): void {
    sock.on('error', () => {})
    sock.setTimeout(10_000, () => sock.destroy())
    // One request per connection: the first line is answered, anything after it is ignored.
    const reader = readLines(sock, MAX_LINE, (line) => {
      reader.set(() => {})
      let id: unknown = null
      void (async () => {
        try {
          const req = JSON.parse(line) as { id?: unknown; method?: unknown }
          id = req.id ?? null
          if (req.method !== 'status')
            throw new MccsError('MCCS_ERR_INVALID', `unknown method ${JSON.stringify(req.method)}; try 'status'`, { field: 'method' })
          sock.end(JSON.stringify({ id, ok: true, result: await this.statusWithConfigured() }) + '\n')
        } catch (err) {
          const e = isMccsError(err) ? err : new MccsError('MCCS_ERR_INVALID', 'request is not JSON', { field: '(line)' })
          sock.end(JSON.stringify({ id, ok: false, error: { code: e.code, message: e.message, field: e.field } }) + '\n')
        }
      })()
    })
  }

  // ---------- client connections ----------

  private onConnection(socket: tls.TLSSocket): void {
    const conn: Conn = {
      socket,
      address: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`,
      nonce: randomBytes(32).toString('hex'),
      rec: null,
      closed: false,
    }
    this.conns.add(conn)
    socket.setNoDelay(true)
    socket.setKeepAlive(true, Math.max(1000, this.intervalMs))
    socket.on('error', (err) => this.log.log('debug', 'quorum client socket error', { from: conn.address, error: err.message }))
    socket.on('close', () => this.onClose(conn))
    const authTimer = setTimeout(() => {
      if (!conn.rec) this.refuse(conn, 'MCCS_ERR_QUORUM_AUTH', 'no login within the time allowed')
    }, this.authTimeoutMs)
    authTimer.unref()
    socket.once('close', () => clearTimeout(authTimer))
    let busy = Promise.resolve()
    readLines(
      socket,
      MAX_LINE,
      (raw) => {
        const line = raw.replace(/\r$/, '')
        // Lines are handled one after the other (a login reads the key file).
        busy = busy.then(() => (conn.closed ? undefined : this.onLine(conn, line)))
      },
      () => {
        busy = busy.then(() => this.refuse(conn, 'MCCS_ERR_QUORUM_PROTOCOL', `line longer than ${MAX_LINE} bytes`))
      },
    )
    this.send(conn, { t: 'hello', v: PROTOCOL_VERSION, nonce: conn.nonce })
  }

  private async onLine(conn: Conn, line: string): Promise<void> {
    if (line.trim() === '') return
    let msg
    try {
      msg = parseClientMsg(line)
    } catch (err) {
      const e = err as MccsError
      this.log.log('warn', 'quorum server: bad message; connection closed', {
        from: conn.address,
        node: conn.rec?.node,
        cluster: conn.rec?.cluster,
        error: e.message,
      })
      return this.refuse(conn, 'MCCS_ERR_QUORUM_PROTOCOL', e.message)
    }
    if (msg.t === 'auth') {
      if (conn.rec) return this.refuse(conn, 'MCCS_ERR_QUORUM_PROTOCOL', 'already logged in')
      const key = await readKey(this.opts.dir, msg.cluster)
      // The same work and the same answer whether the cluster is unknown or the key is wrong.
      const expected = authMac(key ?? 'x'.repeat(64), msg.cluster, msg.node, conn.nonce, msg.cnonce)
      if (!key || !macEqual(expected, msg.mac)) {
        this.log.log('warn', 'quorum server: login refused', {
          from: conn.address,
          cluster: msg.cluster,
          node: msg.node,
          why: key ? 'wrong key' : 'unknown cluster',
        })
        return this.refuse(conn, 'MCCS_ERR_QUORUM_AUTH', 'unknown cluster or wrong key')
      }
      if (conn.closed) return
      this.login(
        conn,
        msg.cluster,
        msg.node,
        msg.intervalMs !== undefined && msg.timeoutMs !== undefined ? { intervalMs: msg.intervalMs, timeoutMs: msg.timeoutMs } : undefined,
      )
      return
    }
    const rec = conn.rec
    if (!rec) return this.refuse(conn, 'MCCS_ERR_QUORUM_PROTOCOL', 'log in first (auth)')
    if (!msg.partition.includes(rec.node))
      return this.refuse(conn, 'MCCS_ERR_QUORUM_PROTOCOL', `the partition must include the reporting node '${rec.node}'`)
    if (msg.seq <= rec.seq && rec.conn === conn && rec.partition)
      return this.refuse(conn, 'MCCS_ERR_QUORUM_PROTOCOL', 'report sequence numbers must grow')
    rec.seq = msg.seq
    rec.lastSeen = this.now()
    if (rec.lastSent === 'denied' && rec.grantOutstanding && msg.ack >= rec.revokeSeq) rec.grantOutstanding = false
    const changed = !rec.partition || partitionKey(rec.partition) !== partitionKey(msg.partition)
    rec.partition = msg.partition
    rec.key = partitionKey(msg.partition)
    if (changed) this.log.log('info', 'quorum: partition reported', { cluster: rec.cluster, node: rec.node, partition: msg.partition })
    this.evaluate(this.clusters.get(rec.cluster)!, rec)
  }

  private login(conn: Conn, cluster: string, node: string, asked?: { intervalMs: number; timeoutMs: number }): void {
    let c = this.clusters.get(cluster)
    if (!c) this.clusters.set(cluster, (c = { name: cluster, nodes: new Map(), holder: null, holderSince: null, pending: false }))
    let rec = c.nodes.get(node)
    if (rec?.conn && rec.conn !== conn) {
      // The same node logs in again (it reconnected before its old connection died): the newer wins.
      this.refuse(rec.conn, 'MCCS_ERR_CONFLICT', 'replaced by a newer connection of the same node')
    }
    if (!rec) {
      rec = {
        cluster,
        node,
        conn: null,
        connectedSince: null,
        partition: null,
        key: null,
        lastSeen: this.now(),
        seq: 0,
        vseq: 0,
        lastSent: null,
        revokeSeq: 0,
        grantOutstanding: false,
        intervalMs: this.intervalMs,
        timeoutMs: this.timeoutMs,
      }
      c.nodes.set(node, rec)
    }
    // A node's lease follows its cluster's heartbeat timing when it asks (the server's own is the default,
    // for clients that do not): with the shipped 1000/5000 a two-node cluster waited ~5 s after a node
    // loss for the server to forget the lost node. A shorter timeout is safe: the client's lease is cut
    // from the same number (protocol header). A node still holding an older, longer grant keeps it until
    // it has been revoked or its old timeout passed: the timeout only shrinks once nothing is outstanding.
    const timing = asked ?? { intervalMs: this.intervalMs, timeoutMs: this.timeoutMs }
    rec.intervalMs = timing.intervalMs
    rec.timeoutMs = rec.grantOutstanding ? Math.max(rec.timeoutMs, timing.timeoutMs) : timing.timeoutMs
    this.armTick(rec.timeoutMs)
    rec.conn = conn
    rec.connectedSince = Date.now()
    rec.seq = 0 // a new connection (maybe a restarted client) counts its reports from 1 again
    rec.lastSeen = this.now()
    conn.rec = rec
    this.send(conn, { t: 'welcome', v: PROTOCOL_VERSION, cluster, node, intervalMs: rec.intervalMs, timeoutMs: rec.timeoutMs })
    this.log.log('info', 'quorum client logged in', { cluster, node, from: conn.address })
    this.emit('client', { cluster, node, connected: true })
  }

  private onClose(conn: Conn): void {
    conn.closed = true
    this.conns.delete(conn)
    const rec = conn.rec
    if (rec && rec.conn === conn) {
      rec.conn = null
      rec.connectedSince = null
      this.log.log('info', 'quorum client disconnected; its part of the vote lapses after the timeout', {
        cluster: rec.cluster,
        node: rec.node,
        timeoutMs: rec.timeoutMs,
      })
      this.emit('client', { cluster: rec.cluster, node: rec.node, connected: false })
    }
  }

  private send(conn: Conn, msg: ServerMsg): void {
    if (conn.closed || conn.socket.destroyed) return
    conn.socket.write(JSON.stringify(msg) + '\n')
  }

  private refuse(conn: Conn, code: string, message: string): void {
    if (conn.closed) return
    this.send(conn, { t: 'error', code, message })
    conn.closed = true
    conn.socket.end()
    // A peer that never reads its side must not keep the socket.
    setTimeout(() => conn.socket.destroy(), 1000).unref()
  }

  // ---------- the vote ----------

  /** Applies timeouts and the ffsplit rule to one cluster; tells nodes whose vote changed (and `replyTo` always). */
  private evaluate(c: ClusterState, replyTo?: NodeRec): void {
    const now = this.now()
    for (const rec of [...c.nodes.values()]) {
      if (now - rec.lastSeen > rec.timeoutMs) {
        c.nodes.delete(rec.node)
        this.log.log('info', 'quorum: node timed out', { cluster: c.name, node: rec.node, partition: rec.partition })
        if (rec.conn) this.refuse(rec.conn, 'MCCS_ERR_QUORUM_PROTOCOL', `no report for ${rec.timeoutMs} ms`)
      }
    }
    const reporting = [...c.nodes.values()].filter((r) => r.partition)
    const winner = choosePartition(
      reporting.map((r) => r.partition!),
      c.holder,
    )
    const wkey = winner ? partitionKey(winner) : null
    if (wkey !== (c.holder ? partitionKey(c.holder) : null)) {
      this.log.log('info', winner ? 'quorum: vote goes to a partition' : 'quorum: no partition holds the vote', {
        cluster: c.name,
        partition: winner,
        previous: c.holder,
      })
      c.holder = winner
      c.holderSince = winner ? Date.now() : null
      this.emit('holder', { cluster: c.name, holder: winner })
    }
    // Grant only once no node outside the winner may still believe it holds the vote.
    const blockers = reporting.filter((r) => r.grantOutstanding && r.key !== wkey).map((r) => r.node)
    for (const r of c.nodes.values()) if (!r.partition && r.grantOutstanding) blockers.push(r.node)
    c.pending = wkey !== null && blockers.length > 0
    for (const r of c.nodes.values()) {
      if (!r.partition || !r.conn) continue
      const grant = r.key === wkey && !c.pending
      const vote: Vote = grant ? 'granted' : 'denied'
      if (vote === r.lastSent && r !== replyTo) continue
      const reason = grant
        ? 'this partition holds the vote'
        : r.key === wkey
          ? `waiting for ${blockers.join(', ')} to give the vote up`
          : `the vote is held by partition [${winner?.join(', ') ?? ''}]`
      r.vseq++
      if (vote === 'granted') r.grantOutstanding = true
      else if (r.lastSent === 'granted') r.revokeSeq = r.vseq
      r.lastSent = vote
      this.send(r.conn, { t: 'vote', vseq: r.vseq, seq: r.seq, vote, partition: r.partition, holder: winner, reason })
    }
  }

  // ---------- state ----------

  status(): QuorumServerStatus {
    const now = this.now()
    const clusters: QuorumClusterStatus[] = [...this.clusters.values()]
      .sort((a, b) => (a.name < b.name ? -1 : 1))
      .map((c) => {
        const hk = c.holder ? partitionKey(c.holder) : null
        const parts = new Map<string, { nodes: string[]; reportedBy: string[]; vote: boolean }>()
        const recs = [...c.nodes.values()].sort((a, b) => (a.node < b.node ? -1 : 1))
        for (const r of recs) {
          if (!r.partition) continue
          const p = parts.get(r.key!) ?? { nodes: r.partition, reportedBy: [], vote: r.key === hk && !c.pending }
          p.reportedBy.push(r.node)
          parts.set(r.key!, p)
        }
        return {
          name: c.name,
          configured: true,
          holder: c.holder,
          holderSince: c.holderSince ? new Date(c.holderSince).toISOString() : null,
          pending: c.pending,
          partitions: [...parts.values()],
          clients: recs.map((r) => ({
            node: r.node,
            connected: r.conn !== null,
            address: r.conn?.address ?? null,
            partition: r.partition ?? [],
            vote: r.lastSent,
            lastReportMsAgo: r.partition ? Math.round(now - r.lastSeen) : null,
            intervalMs: r.intervalMs,
            timeoutMs: r.timeoutMs,
            connectedSince: r.connectedSince ? new Date(r.connectedSince).toISOString() : null,
          })),
        }
      })
    return {
      server: {
        address: this.address,
        port: this.port,
        intervalMs: this.intervalMs,
        timeoutMs: this.timeoutMs,
        startedAt: this.startedAt.toISOString(),
        caFingerprint: this.caFingerprint,
        pid: process.pid,
      },
      clusters,
    }
  }

  /** status() plus the configured clusters nobody has logged in to yet (and whether each has a key). */
  async statusWithConfigured(): Promise<QuorumServerStatus> {
    const s = this.status()
    const configured = new Set(await listClusters(this.opts.dir))
    for (const c of s.clusters) c.configured = configured.has(c.name)
    for (const name of configured) {
      if (!s.clusters.some((c) => c.name === name))
        s.clusters.push({ name, configured: true, holder: null, holderSince: null, pending: false, partitions: [], clients: [] })
    }
    s.clusters.sort((a, b) => (a.name < b.name ? -1 : 1))
    return s
  }

  async close(): Promise<void> {
    if (this.timer) clearInterval(this.timer)
    this.timer = null
    for (const c of this.conns) c.socket.destroy()
    this.conns.clear()
    await Promise.all([
      this.server ? new Promise<void>((r) => this.server!.close(() => r())) : undefined,
      this.control ? new Promise<void>((r) => this.control!.close(() => r())) : undefined,
    ])
    this.server = null
    this.control = null
    if (this.controlPath) await rm(this.controlPath, { force: true })
    this.controlPath = null
  }
}
