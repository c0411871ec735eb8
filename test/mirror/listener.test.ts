// Mirror disk (issue 15, acceptance 7): the secondary's replication listener. qsd's NBD server accepts
// on a TCP socket made with TCP_NODELAY (inherited by each accepted connection) and handed to it as an
// fd: no relay process between the two daemons (socat was one, two more process hops per replicated
// write). What must hold:
//   - the replication port is held by the secondary's qsd itself, and nothing else (no relay) runs;
//   - two writes in flight over the replication link never wait for a delayed ACK (Nagle: QEMU 7.2's
//     server sends a TLS reply as several small records; without TCP_NODELAY queue depth 2 gave ~60
//     writes/s, a 40 ms stall each);
//   - a replication port already in use: becoming secondary fails with the address and the reason.
import t from 'tap'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createLab, labAvailable } from '../../scripts/lab/lab.js'
import { mnode, scrub, images, missingTools, type MNode } from './lab-nodes.js'

const PORT = 17798
const SIZE = 64 * 1024 * 1024
const avail = await labAvailable()
const missing = [...missingTools(), '/usr/bin/fio'].filter((f) => !fs.existsSync(f))

/** The inodes of the TCP sockets listening on `port` in the network namespace of `pid`. */
function listeners(pid: number, port: number): string[] {
  const hex = port.toString(16).toUpperCase().padStart(4, '0')
  return ['tcp', 'tcp6'].flatMap((f) =>
    fs
      .readFileSync(`/proc/${pid}/net/${f}`, 'utf8')
      .split('\n')
      .map((l) => l.trim().split(/\s+/))
      .filter((c) => c[3] === '0A' && c[1]?.split(':').pop() === hex)
      .map((c) => c[9]!),
  )
}
/** The socket inodes among the open files of `pid`. */
function socketInodes(pid: number): Set<string> {
  const out = new Set<string>()
  for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
    const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`))
    if (m) out.add(m[1]!)
  }
  return out
}

t.test(
  'mirror: the secondary qsd listens itself, with TCP_NODELAY',
  { skip: !avail.ok ? avail.reason : missing.length ? `missing ${missing.join(', ')}` : false },
  async (t) => {
    const lab = await createLab({ prefix: `mccs${process.pid}l-`, nodes: 2, links: 1 })
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ml-'))
    images(dir, SIZE)
    const a: MNode = mnode(lab, dir, 0, path.join(dir, 'p1'), PORT)
    const b: MNode = mnode(lab, dir, 1, path.join(dir, 'p2'), PORT)
    t.teardown(async () => {
      for (const n of [a, b]) await scrub(n, dir)
      fs.rmSync(dir, { recursive: true, force: true })
      await lab.destroy()
    })
    await b.vol.becomeSecondary()
    const q = await b.procs.status('mirror.md0', 'qsd')
    t.ok(q.running && q.pid, 'secondary daemon running')
    const held = listeners(q.pid!, PORT)
    t.equal(held.length, 1, `one socket listens on ${b.addr}:${PORT}`)
    t.ok(socketInodes(q.pid!).has(held[0]!), 'it is an open file of the secondary qsd itself')
    t.equal((await b.procs.status('mirror.md0', 'relay')).running, false, 'no relay process')
    t.match(fs.readFileSync(`/proc/${q.pid}/comm`, 'utf8'), /^qemu-storage/, 'the listener helper exec()ed qsd (same pid)')

    await a.vol.becomePrimary({ force: true })
    await a.vol.waitInSync(60_000)
    // Queue depth 2 through the primary's export: every write also crosses the replication link.
    const r = await lab.exec(
      0,
      [
        'fio',
        '--output-format=json',
        '--name=qd2',
        '--ioengine=nbd',
        `--uri=nbd+unix:///vol?socket=${path.join(a.vol.c.runDir, 'nbd.sock')}`,
        '--rw=randwrite',
        '--bs=4k',
        '--size=32M',
        '--iodepth=2',
        '--runtime=3',
        '--time_based',
      ],
      { timeoutMs: 60_000 },
    )
    const w = (JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as { jobs: Array<{ write: { iops: number; lat_ns: { max: number } } }> })
      .jobs[0]!.write
    // A Nagle stall costs ~40 ms a write (~50 writes/s at depth 2); this host does thousands.
    t.ok(w.iops > 300, `queue depth 2 over the replication link: ${Math.round(w.iops)} writes/s (a stalled link: ~50)`)
    const s = await a.vol.status()
    t.equal(s.replication?.state, 'Connected', 'still connected, in sync')
  },
)

t.test(
  'mirror: a replication port in use is named when the secondary cannot start',
  { skip: !avail.ok ? avail.reason : missing.length ? `missing ${missing.join(', ')}` : false },
  async (t) => {
    const lab = await createLab({ prefix: `mccs${process.pid}m-`, nodes: 2, links: 1 })
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ml-'))
    images(dir, SIZE)
    const b: MNode = mnode(lab, dir, 1, path.join(dir, 'p2'), PORT)
    // Another program holds n2's replication port.
    const holder = lab.spawn(1, [
      process.execPath,
      '-e',
      `require('net').createServer().listen(${PORT}, '${lab.addr(1, 0)}', () => console.log('ok'))`,
    ])
    t.teardown(async () => {
      if (holder.pid) process.kill(holder.pid, 'SIGKILL')
      await scrub(b, dir)
      fs.rmSync(dir, { recursive: true, force: true })
      await lab.destroy()
    })
    await new Promise<void>((res) => holder.stdout!.once('data', () => res()))
    await t.rejects(
      b.vol.becomeSecondary(),
      {
        code: 'MCCS_ERR_MIRROR_ENGINE',
        message: new RegExp(
          `exited at start: the replication address ${lab.addr(1, 0).replace(/\./g, '\\.')} port ${PORT}: Address already in use`,
        ),
      },
      'refused, naming the address, the port and the reason',
    )
    t.equal((await b.procs.status('mirror.md0', 'qsd')).running, false, 'no daemon left running')
  },
)
