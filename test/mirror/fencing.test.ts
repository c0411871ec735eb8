// Mirror disk (issue 15, acceptance 1 with a link cut first): the primary never acknowledges a write it
// could not replicate unless its peer is known Outdated or fenced (DRBD protocol C + fencing
// resource-and-stonith). The replication link is cut, the primary writes (write + fsync), then dies.
//   1. The cluster's own channel still reaches the peer: the primary outdates it there first, then the
//      write completes; after the primary's death the peer refuses to become primary even with the
//      engine's fencing evidence (it would lose the acknowledged write), saying why and how to force.
//   2. The peer cannot be reached at all: the write waits (frozen, never acknowledged); the primary dies;
//      the peer, promoted with the fencing evidence, has every acknowledged write.
//   3. The peer cannot be reached, then the cluster reports it fenced: the frozen write completes.
import t, { type Test } from 'tap'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createLab, labAvailable, type Lab } from '../../scripts/lab/lab.js'
import { MirrorWitness } from '../../scripts/lab/mirror-witness.js'
import { mirrorVerdict } from '../../scripts/lab/safety.js'
import { isMccsError } from '../../core/errors.js'
import type { PeerRecord } from '../../core/mirror/meta.js'
import { mnode, scrub, crash, images, sh, sleep, killPid, missingTools, unmount, TEST_CLUSTER_KEY, type MNode } from './lab-nodes.js'

const PORT = 17793
const SIZE = 64 * 1024 * 1024
const avail = await labAvailable()
const missing = missingTools()

interface Pair {
  a: MNode
  b: MNode
  dir: string
  channelUp: boolean
  aSeesPeerFenced: boolean
  kids: number[]
}

/** a primary, b secondary, in sync, ext4 mounted on a with a file written before the cut. The "cluster
 *  channel" of a reaches b's volume directly while channelUp (the agents' peer RPC in production). */
async function pair(t: Test, lab: Lab, tag: string): Promise<Pair> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `mf${tag}-`))
  images(dir, SIZE)
  const p = { dir, channelUp: true, aSeesPeerFenced: false, kids: [] as number[] } as Pair
  p.b = mnode(lab, dir, 1, path.join(dir, 'p2'), PORT)
  p.a = mnode(lab, dir, 0, path.join(dir, 'p1'), PORT, TEST_CLUSTER_KEY, {
    outdatePeer: async (rec: PeerRecord) => {
      if (!p.channelUp) throw new Error('peer unreachable over the cluster channel')
      await p.b.vol.markOutdated(rec)
    },
    peerFenced: () => p.aSeesPeerFenced,
  })
  t.teardown(async () => {
    for (const k of p.kids) killPid(k)
    await lab.linkUp(0, 0).catch(() => {})
    for (const n of [p.a, p.b]) await scrub(n, dir)
    fs.rmSync(dir, { recursive: true, force: true })
  })
  fs.mkdirSync(p.a.mnt)
  fs.mkdirSync(p.b.mnt)
  await p.b.vol.becomeSecondary()
  await p.a.vol.becomePrimary({ force: true })
  await p.a.vol.waitInSync(60_000)
  const dev = await p.a.vol.attach()
  sh(['mkfs.ext4', '-q', '-F', dev])
  sh(['mount', dev, p.a.mnt])
  fs.writeFileSync(path.join(p.a.mnt, 'before-cut'), 'one\n')
  sh(['sync'])
  return p
}

/** Writes and fsyncs a file on the primary (in its namespace); resolves with the exit code or null if
 *  it has not finished within ms. */
function writeOnA(lab: Lab, p: Pair, name: string, ms: number): { done: Promise<number | null>; pid: number } {
  const file = path.join(p.a.mnt, name)
  const w = lab.spawn(0, ['sh', '-c', `echo ${name} > ${file} && sync -f ${file}`], { stdio: 'ignore' })
  p.kids.push(w.pid!)
  const done = new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => resolve(null), ms)
    w.once('exit', (code) => {
      clearTimeout(timer)
      resolve(code)
    })
  })
  return { done, pid: w.pid! }
}

/** b takes over after a's death, as the engine would (a fenced); returns what b holds or the refusal. */
async function takeOver(p: Pair): Promise<{ err: unknown; files: string[] }> {
  const err = await p.b.vol.becomePrimary({ peerFenced: true }).then(
    () => null,
    (e: unknown) => e,
  )
  if (err) return { err, files: [] }
  const dev = await p.b.vol.attach()
  sh(['e2fsck', '-p', dev])
  sh(['mount', dev, p.b.mnt])
  const files = fs
    .readdirSync(p.b.mnt)
    .filter((f) => f !== 'lost+found')
    .sort()
  await unmount(p.b)
  await p.b.vol.detach()
  return { err: null, files }
}

t.test(
  "mirror: no acknowledged write lost after a link cut and the primary's death",
  { skip: !avail.ok ? avail.reason : missing.length ? `missing ${missing.join(', ')}` : false },
  async (t) => {
    const lab = await createLab({ prefix: `mccs${process.pid}f-`, nodes: 2, links: 1 })
    t.teardown(() => lab.destroy())
    // The safety checker's mirror witness (issue 15, acceptance 6) watches the daemons throughout.
    const witness = new MirrorWitness({ n1: lab.ns(0), n2: lab.ns(1) }).start()
    t.teardown(() => witness.stop())

    await t.test('cluster channel up: the peer is outdated before the primary writes alone', async (t) => {
      const p = await pair(t, lab, 'a')
      await lab.linkDown(0, 0)
      const w = writeOnA(lab, p, 'alone', 30_000)
      t.equal(await w.done, 0, 'the write completes on the primary')
      t.match(
        (await p.b.vol.status()).peerRecord,
        { state: 'Outdated', by: 'n1' },
        'the peer was marked Outdated (by the primary, over the cluster channel) before',
      )
      await crash(p.a, [w.pid])
      await lab.linkUp(0, 0)
      const r = await takeOver(p)
      t.ok(
        isMccsError(r.err, 'MCCS_ERR_MIRROR_OUTDATED'),
        `the peer refuses to take over even with the fencing evidence (${r.err ? String((r.err as Error).message).slice(0, 160) : `it took over with ${r.files.join(', ')}: the acknowledged write "alone" is lost`})`,
      )
      t.match(String((r.err as Error | null)?.message), /--force/, 'the refusal says how to force')
    })

    await t.test('peer unreachable everywhere: the write is never acknowledged, nothing acknowledged is lost', async (t) => {
      const p = await pair(t, lab, 'b')
      p.channelUp = false
      await lab.linkDown(0, 0)
      const w = writeOnA(lab, p, 'frozen', 8000)
      const acked = (await w.done) === 0
      t.equal(acked, false, 'the write is not acknowledged while the peer is neither outdated nor fenced (8 s)')
      await crash(p.a, [w.pid])
      await lab.linkUp(0, 0)
      const r = await takeOver(p)
      t.equal(r.err, null, `the peer takes over with the fencing evidence (${String((r.err as Error | null)?.message ?? '')})`)
      t.ok(r.files.includes('before-cut'), 'with every write acknowledged before the cut')
      t.ok(
        !acked || r.files.includes('frozen'),
        `and the write acknowledged after the cut, if it was (${acked ? 'acknowledged' : 'not acknowledged'}; on the new primary: ${r.files.join(', ')})`,
      )
    })

    await t.test('peer unreachable, then reported fenced: the frozen write completes', async (t) => {
      const p = await pair(t, lab, 'c')
      p.channelUp = false
      await lab.linkDown(0, 0)
      const w = writeOnA(lab, p, 'later', 6000)
      const early = await Promise.race([w.done, sleep(5000).then(() => 'pending' as const)])
      t.equal(early, 'pending', 'frozen while the peer is neither outdated nor fenced')
      p.aSeesPeerFenced = true
      t.equal(await w.done, 0, 'completes once the cluster reports the peer fenced')
      t.equal((await p.a.vol.status()).replication?.state, 'Disconnected', 'the primary goes on alone')
      await lab.linkUp(0, 0)
      await unmount(p.a)
      await p.a.vol.detach()
    })

    const v = mirrorVerdict(await witness.stop(), [], Date.now())
    t.ok(
      v.intervals.some((i) => i.node === 'n2'),
      `the witness saw the takeover (${witness.samples} samples; primary intervals: ${v.intervals.map((i) => `${i.node} ${i.to - i.from} ms`).join(', ')})`,
    )
    t.same(v.overlaps, [], 'never primary on two nodes at once')
  },
)
