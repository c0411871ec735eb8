// Mirror disk (issue 15, gap 2): a secondary that misses writes while running is not "up to date".
//   1. Clean handover: the primary demotes cleanly while in sync; the secondary becomes primary
//      without force (it holds every write: the old primary said so as it stepped down).
//   2. Link cut: the replication link goes down; the primary notices, starts a new generation and
//      records that its peer is outdated, outdates it over the cluster channel, then goes on writing
//      alone (a write completes). The primary is killed; the secondary refuses to become primary,
//      saying why and how to force; force works (without the writes made alone).
import t from 'tap'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createLab, labAvailable } from '../../scripts/lab/lab.js'
import { isMccsError } from '../../core/errors.js'
import { mnode, scrub, crash, images, sh, sleep, killPid, missingTools, unmount, TEST_CLUSTER_KEY, type MNode } from './lab-nodes.js'

const PORT = 17792
const SIZE = 64 * 1024 * 1024
const avail = await labAvailable()
const missing = missingTools()

t.test(
  'mirror: outdating a secondary that misses writes',
  { skip: !avail.ok ? avail.reason : missing.length ? `missing ${missing.join(', ')}` : false },
  async (t) => {
    const lab = await createLab({ prefix: `mccs${process.pid}o-`, nodes: 2, links: 1 })
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mo-'))
    images(dir, SIZE)
    // Each node's "cluster channel" (the agents' peer RPC in production) reaches the other's volume.
    const a: MNode = mnode(lab, dir, 0, path.join(dir, 'p1'), PORT, TEST_CLUSTER_KEY, { outdatePeer: (rec) => b.vol.markOutdated(rec) })
    const b: MNode = mnode(lab, dir, 1, path.join(dir, 'p2'), PORT, TEST_CLUSTER_KEY, { outdatePeer: (rec) => a.vol.markOutdated(rec) })
    const kids: number[] = []
    t.teardown(async () => {
      for (const p of kids) killPid(p)
      for (const n of [a, b]) await scrub(n, dir)
      fs.rmSync(dir, { recursive: true, force: true })
      await lab.destroy()
    })
    fs.mkdirSync(a.mnt)
    fs.mkdirSync(b.mnt)

    // 1. Clean handover a → b.
    await b.vol.becomeSecondary()
    await a.vol.becomePrimary({ force: true })
    await a.vol.waitInSync(60_000)
    const dev = await a.vol.attach()
    sh(['mkfs.ext4', '-q', '-F', dev])
    sh(['mount', dev, a.mnt])
    fs.writeFileSync(path.join(a.mnt, 'before-handover'), 'one\n')
    await unmount(a)
    await a.vol.detach()
    await a.vol.becomeSecondary()
    t.match(
      (await b.vol.status()).peerRecord,
      { state: 'UpToDate', handover: true },
      "the old primary handed over: the secondary's record says so",
    )
    const sb = await b.vol.becomePrimary()
    t.equal(sb.role, 'primary', 'after a clean handover the secondary becomes primary without force')
    await b.vol.waitInSync(60_000)
    const dev2 = await b.vol.attach()
    sh(['mount', dev2, b.mnt])
    t.equal(fs.readFileSync(path.join(b.mnt, 'before-handover'), 'utf8'), 'one\n', 'with the data')
    fs.writeFileSync(path.join(b.mnt, 'before-cut'), 'two\n')
    sh(['sync'])
    const genBefore = (await b.vol.status()).generation?.current

    // 2. Cut the link (b is primary now, a secondary), write on the primary.
    await lab.linkDown(1, 0)
    const w = lab.spawn(1, ['sh', '-c', `echo three > ${path.join(b.mnt, 'after-cut')} && sync -f ${path.join(b.mnt, 'after-cut')}`], {
      stdio: 'ignore',
    })
    kids.push(w.pid!)
    const done = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => resolve(null), 30_000)
      w.once('exit', (code) => {
        clearTimeout(timer)
        resolve(code)
      })
    })
    t.equal(
      done,
      0,
      'the write on the primary completes once the peer is declared lost and outdated over the cluster channel (it went on alone)',
    )
    t.match(
      (await a.vol.status()).peerRecord,
      { state: 'Outdated', by: 'n2' },
      'the secondary recorded Outdated before the primary went on',
    )
    const st = await b.vol.status()
    t.not(st.generation?.current, genBefore, 'the primary started a new generation when it lost the peer')
    t.equal(st.generation?.history[0], genBefore, 'the old generation is in its history')
    t.match(st.peerOutdated, { generation: genBefore }, 'the primary recorded its peer as outdated (as of the old generation)')
    t.equal(st.replication?.state, 'Disconnected', 'replication: Disconnected')

    // The primary dies (with its link still down), the secondary is asked to take over.
    await crash(b, [w.pid])
    await sleep(200)
    const err = await a.vol.becomePrimary().then(
      () => null,
      (e: unknown) => e,
    )
    t.ok(
      isMccsError(err, 'MCCS_ERR_MIRROR_OUTDATED'),
      `the secondary refuses to become primary (${String((err as Error | null)?.message ?? 'it did not refuse')})`,
    )
    t.match(String((err as Error | null)?.message), /Outdated since .*n2 lost the replication link/, 'the message says why')
    t.match(String((err as Error | null)?.message), /--force/, 'the message says how to force')
    t.equal((await a.vol.status()).role, 'secondary', 'it is still secondary')
    // Forcing takes the data as it is: the writes made after the cut are not there.
    const forced = await a.vol.becomePrimary({ force: true })
    t.equal(forced.role, 'primary', 'forced: primary')
    const dev3 = await a.vol.attach()
    sh(['e2fsck', '-p', dev3])
    sh(['mount', dev3, a.mnt])
    t.equal(fs.readFileSync(path.join(a.mnt, 'before-cut'), 'utf8'), 'two\n', 'what was written before the cut is there')
    t.equal(fs.existsSync(path.join(a.mnt, 'after-cut')), false, 'what the old primary wrote alone is not (that is why it refused)')
    await unmount(a)
    await a.vol.detach()
  },
)
