// Mirror disk, acceptance 3 (issue 15): partition both nodes and force each to primary; each writes its
// own file. At reconnect the split brain is reported on both sides with both generations (and the
// bytes each wrote on its own), neither side's data is changed, nothing is sent; `resolve` (keep n1,
// discard n2) ends it with a full resync, after which verify finds both copies equal and n2 holds
// n1's file, not its own.
import t from 'tap'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createLab, labAvailable } from '../../scripts/lab/lab.js'
import { verifyVolumes } from '../../core/mirror/verify.js'
import { MirrorWitness } from '../../scripts/lab/mirror-witness.js'
import { mirrorVerdict } from '../../scripts/lab/safety.js'
import type { MirrorVolume, VolumeStatus } from '../../core/mirror/volume.js'
import { spawn } from 'node:child_process'
import { mnode, scrub, images, sh, sleep, killPid, missingTools, unmount, TEST_CLUSTER_KEY, type MNode } from './lab-nodes.js'

const PORT = 17795
const SIZE = 64 * 1024 * 1024
const avail = await labAvailable()
const missing = missingTools()

async function until<T>(what: string, ms: number, fn: () => Promise<T | null | undefined | false>): Promise<T> {
  const end = Date.now() + ms
  for (;;) {
    const v = await fn()
    if (v) return v
    if (Date.now() > end) throw new Error(`not within ${ms} ms: ${what}`)
    await sleep(200)
  }
}

const sums = async (v: MirrorVolume): Promise<Array<string | null>> =>
  (
    await v.checksums(
      1 << 20,
      Array.from({ length: SIZE >> 20 }, (_, i) => i),
    )
  ).sums

t.test(
  'mirror: split brain reported, nothing merged, resolve ends it',
  { skip: !avail.ok ? avail.reason : missing.length ? `missing ${missing.join(', ')}` : false },
  async (t) => {
    const lab = await createLab({ prefix: `mccs${process.pid}s-`, nodes: 2, links: 1 })
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ms-'))
    images(dir, SIZE)
    let partitioned = false
    // The cluster channel: down while partitioned (each side then sees the other as fenced/gone, as a
    // misconfigured or forced cluster would), back with the link.
    // Both sides ask each other at the same moment (each call waits up to 2 s for the other side's):
    // what a loaded host does by chance (CI: split brain on n1 not seen within 20 s) happens every time.
    let waiting: (() => void) | null = null
    const together = (): Promise<void> =>
      new Promise((r) => {
        if (waiting) {
          waiting()
          waiting = null
          return r()
        }
        const t = setTimeout(() => {
          waiting = null
          r()
        }, 2000)
        waiting = () => {
          clearTimeout(t)
          r()
        }
      })
    const peerOf = (n: () => MNode) => ({
      outdatePeer: async () => {
        throw new Error('peer unreachable')
      },
      peerFenced: () => partitioned,
      peerStatus: async (): Promise<VolumeStatus> => {
        if (partitioned) throw new Error('peer unreachable')
        await together()
        return n().vol.status()
      },
    })
    const a: MNode = mnode(
      lab,
      dir,
      0,
      path.join(dir, 'p1'),
      PORT,
      TEST_CLUSTER_KEY,
      peerOf(() => b),
    )
    const b: MNode = mnode(
      lab,
      dir,
      1,
      path.join(dir, 'p2'),
      PORT,
      TEST_CLUSTER_KEY,
      peerOf(() => a),
    )
    t.teardown(async () => {
      await lab.linkUp(0, 0).catch(() => {})
      for (const n of [a, b]) await scrub(n, dir)
      fs.rmSync(dir, { recursive: true, force: true })
      await lab.destroy()
    })
    fs.mkdirSync(a.mnt)
    fs.mkdirSync(b.mnt)
    // The safety checker's mirror witness (issue 15, acceptance 6) must see the forced split brain.
    const witness = new MirrorWitness({ n1: lab.ns(0), n2: lab.ns(1) }).start()
    t.teardown(() => witness.stop())
    await b.vol.becomeSecondary()
    await a.vol.becomePrimary({ force: true })
    await a.vol.waitInSync(60_000)
    const da = await a.vol.attach()
    sh(['mkfs.ext4', '-q', '-F', da])
    sh(['mount', da, a.mnt])
    // Another program takes its own mount namespace while n1's file system is mounted (`ip netns exec`
    // does, as another lab test's agent did in CI; so does a service with PrivateTmp=): it holds a copy
    // of the mount, and ends while the split brain is pending.
    const other = spawn('unshare', ['-m', '--propagation', 'slave', 'sleep', '600'], { stdio: 'ignore' })
    t.teardown(() => killPid(other.pid))
    const otherNs = `/proc/${other.pid}/mountinfo`
    await until('the other namespace has its copy', 5000, async () => fs.readFileSync(otherNs, 'utf8').includes(` ${a.mnt} `))
    fs.writeFileSync(path.join(a.mnt, 'common'), 'both\n')
    sh(['sync'])

    // Partition; each side primary on its own, each writes.
    partitioned = true
    await lab.linkDown(0, 0)
    await lab.exec(0, ['sh', '-c', `echo n1 > ${a.mnt}/n1-only && sync -f ${a.mnt}/n1-only`], { timeoutMs: 30_000 })
    await unmount(a)
    t.notOk(
      fs.readFileSync(otherNs, 'utf8').includes(` ${a.mnt} `),
      "n1's unmount also ended the other namespace's copy of its file system",
    )
    const forcedAt = Date.now()
    const fb = await b.vol.becomePrimary({ force: true })
    t.equal(fb.role, 'primary', 'n2 forced to primary during the partition')
    const db = await b.vol.attach()
    sh(['e2fsck', '-p', db])
    sh(['mount', db, b.mnt])
    fs.writeFileSync(path.join(b.mnt, 'n2-only'), 'n2\n')
    await unmount(b)
    const before = { a: await sums(a.vol), b: await sums(b.vol) }
    // The other program ends: had n1's file system lived on in its copy, its unmount (journal
    // checkpoint, superblock) would land on n1's data only now.
    const gone = new Promise((r) => other.once('exit', r))
    killPid(other.pid)
    await gone
    const genA = (await a.vol.status()).generation!.current
    const genB = (await b.vol.status()).generation!.current

    // Reconnect.
    partitioned = false
    await lab.linkUp(0, 0)
    const up = Date.now()
    const sa = await until('split brain on n1', 20_000, async () => (await a.vol.status()).splitBrain)
    const sb = await until('split brain on n2', 20_000, async () => (await b.vol.status()).splitBrain)
    t.comment(`split brain seen ${Date.parse(sa.detectedAt) - up} ms (n1), ${Date.parse(sb.detectedAt) - up} ms (n2) after the reconnect`)
    t.match(
      sa,
      { local: { node: 'n1', generation: genA }, peer: { node: 'n2', generation: genB } },
      `n1 reports the split brain with both generations (${sa.how})`,
    )
    t.match(sb, { local: { node: 'n2', generation: genB }, peer: { node: 'n1', generation: genA } }, 'n2 too')
    t.ok(
      (sa.local.dirtyBytes ?? 0) > 0 && (sb.local.dirtyBytes ?? 0) > 0,
      `with the bytes each wrote on its own (n1 ${sa.local.dirtyBytes}, n2 ${sb.local.dirtyBytes})`,
    )
    t.equal((await a.vol.status()).replication?.state, 'SplitBrain', 'replication state: SplitBrain')
    await sleep(3000)
    t.same(await sums(a.vol), before.a, "n1's data is unchanged")
    t.same(await sums(b.vol), before.b, "n2's data is unchanged")

    // Resolve: discard n2 (offline there first: it refuses while primary), keep n1.
    await t.rejects(b.vol.resolve('discard'), { code: 'MCCS_ERR_MIRROR_ROLE' }, 'the side to discard refuses while primary')
    await b.vol.detach()
    await b.vol.becomeSecondary()
    const demotedAt = Date.now()
    const mv = mirrorVerdict(await witness.stop(), [], Date.now())
    t.same(
      mv.overlaps.map(([x, y]) => [x.node, y.node]),
      [['n1', 'n2']],
      `the safety checker finds the two primaries (${witness.samples} samples)`,
    )
    const [, n2p] = mv.overlaps[0] ?? []
    t.ok(n2p && n2p.from >= forcedAt && n2p.to <= demotedAt, "n2's primary lasted from its forced promotion to its demotion")
    await b.vol.resolve('discard')
    await a.vol.resolve('keep')
    await a.vol.waitInSync(60_000)
    t.equal((await a.vol.status()).splitBrain, null, 'no split brain any more')
    const v = await verifyVolumes(a.vol, (c, i) => b.vol.checksums(c, i))
    t.same(v.differing, [], 'verify: both copies equal after resolve')
    t.same(await sums(a.vol), before.a, "n1's data was kept as it was")
    await t.rejects(
      b.vol.becomePrimary(),
      { code: 'MCCS_ERR_MIRROR_OUTDATED' },
      'n2 does not become primary on its own (no handover, n1 not fenced)',
    )
  },
)
