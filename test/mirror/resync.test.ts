// Mirror disk, acceptance 2 (issue 15): a link flap costs a resync of the written blocks only.
// A 1 GiB volume whose first 256 MiB hold data is in sync; the replication link is cut; 1 % of the
// volume (10 MiB, as ten 1 MiB O_DIRECT writes at distinct offsets) is written on the primary (the
// peer is outdated over the cluster channel first); the link comes back. The bytes on the replication
// link until the peer is UpToDate again are at most 1.2 x the dirty data, and verify finds both copies
// equal. Measured on the primary's side of the link (both directions).
import t from 'tap'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import crypto from 'node:crypto'
import { createLab, labAvailable, type Lab } from '../../scripts/lab/lab.js'
import { verifyVolumes } from '../../core/mirror/verify.js'
import { mnode, scrub, images, sh, TEST_CLUSTER_KEY, missingTools, type MNode } from './lab-nodes.js'

const PORT = 17794
const SIZE = 1024 * 1024 * 1024
const DIRTY = 10 * 1024 * 1024
const avail = await labAvailable()
const missing = missingTools()

async function linkBytes(lab: Lab, i: number): Promise<number> {
  const r = await lab.exec(i, ['cat', '/sys/class/net/eth0/statistics/tx_bytes', '/sys/class/net/eth0/statistics/rx_bytes'])
  return r.stdout
    .trim()
    .split('\n')
    .map(Number)
    .reduce((x, y) => x + y, 0)
}

t.test(
  'mirror: a link flap resyncs only the blocks written meanwhile',
  { skip: !avail.ok ? avail.reason : missing.length ? `missing ${missing.join(', ')}` : false },
  async (t) => {
    const lab = await createLab({ prefix: `mccs${process.pid}r-`, nodes: 2, links: 1 })
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mr-'))
    images(dir, SIZE)
    // Data on the first 256 MiB of the primary's disk (copied by the initial sync).
    const fd = fs.openSync(path.join(dir, 'n1.img'), 'r+')
    for (let off = 0; off < 256 << 20; off += 4 << 20) fs.writeSync(fd, crypto.randomBytes(4 << 20), 0, 4 << 20, off)
    fs.closeSync(fd)
    let a: MNode | null = null
    const b: MNode = mnode(lab, dir, 1, path.join(dir, 'p2'), PORT)
    a = mnode(lab, dir, 0, path.join(dir, 'p1'), PORT, TEST_CLUSTER_KEY, { outdatePeer: (rec) => b.vol.markOutdated(rec) })
    t.teardown(async () => {
      for (const n of [a!, b]) await scrub(n, dir)
      fs.rmSync(dir, { recursive: true, force: true })
      await lab.destroy()
    })
    await b.vol.becomeSecondary()
    await a.vol.becomePrimary({ force: true })
    await a.vol.waitInSync(180_000)
    const dev = await a.vol.attach()

    await lab.linkDown(0, 0)
    // 10 distinct 1 MiB-aligned offsets across the volume (some in the data, most beyond it).
    const offsets = new Set<number>()
    while (offsets.size < DIRTY / (1 << 20)) offsets.add(crypto.randomInt(0, SIZE / (1 << 20)))
    // Asynchronously: the primary's supervisor (this process) must run while the first write is held.
    for (const mb of offsets)
      await lab.exec(0, ['dd', 'if=/dev/urandom', `of=${dev}`, 'bs=1M', 'count=1', `seek=${mb}`, 'oflag=direct', 'status=none'], {
        timeoutMs: 60_000,
      })
    t.equal((await a.vol.status()).replication?.state, 'Disconnected', 'the primary went on alone (peer outdated)')
    t.match((await b.vol.status()).peerRecord, { state: 'Outdated' }, 'the peer is Outdated')

    const before = await linkBytes(lab, 0)
    const t0 = Date.now()
    await lab.linkUp(0, 0)
    await a.vol.waitInSync(180_000)
    const sent = (await linkBytes(lab, 0)) - before
    t.comment(
      `resync after the flap: ${(sent / 1048576).toFixed(2)} MiB on the link for ${DIRTY / 1048576} MiB dirty (${(sent / DIRTY).toFixed(3)} x) in ${Date.now() - t0} ms`,
    )
    t.ok(sent <= 1.2 * DIRTY, `bytes on the replication link ≤ 1.2 x the dirty data (${sent} ≤ ${1.2 * DIRTY})`)
    t.match((await b.vol.status()).peerRecord, { state: 'UpToDate' }, 'the peer is UpToDate again')

    const v = await verifyVolumes(a.vol, (chunk, idx) => b.vol.checksums(chunk, idx))
    t.same(v.differing, [], `verify: both copies equal (${v.chunks} chunks of ${v.chunk} bytes compared)`)
    // A second flap with writes going on while the partial resync runs, into the very blocks it copies
    // (old block sent by the copy-before-write, then the new one by the mirror: the peer must end equal).
    await lab.linkDown(0, 0)
    const dirty2 = [...offsets].slice(0, 6)
    for (const mb of dirty2)
      await lab.exec(0, ['dd', 'if=/dev/urandom', `of=${dev}`, 'bs=1M', 'count=1', `seek=${mb}`, 'oflag=direct', 'status=none'], {
        timeoutMs: 60_000,
      })
    const script =
      `end=$(($(date +%s)+4)); while [ $(date +%s) -lt $end ]; do for mb in ${dirty2.join(' ')}; do ` +
      `dd if=/dev/urandom of=${dev} bs=64k count=1 seek=$((mb*16 + RANDOM % 16)) oflag=direct status=none; done; done`
    await lab.linkUp(0, 0)
    await lab.exec(0, ['bash', '-c', script], { timeoutMs: 120_000 })
    await a.vol.waitInSync(180_000)
    const v1 = await verifyVolumes(a.vol, (chunk, idx) => b.vol.checksums(chunk, idx))
    t.same(v1.differing, [], 'verify: both copies equal after a partial resync with concurrent writes into the resynced blocks')

    // verify sees a difference when there is one: change one block on the secondary's file behind its back.
    const bfd = fs.openSync(path.join(dir, 'n2.img'), 'r+')
    fs.writeSync(bfd, Buffer.alloc(4096, 0x5a), 0, 4096, 300 << 20)
    fs.closeSync(bfd)
    const v2 = await verifyVolumes(a.vol, (chunk, idx) => b.vol.checksums(chunk, idx))
    t.same(v2.differing, [{ offset: 300 << 20, length: v2.chunk }], 'verify reports the one differing range')
  },
)
