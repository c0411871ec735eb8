// Mirror disk (issue 15): a failed offline must never leave both copies refusing. The primary's offline
// got as far as unmount and detach, then its node was fenced (its daemon killed) and came back at once: the
// engine no longer holds it fenced. Its copy stopped as primary without a clean demotion, so it refuses to
// become primary without force (another node may have taken over meanwhile). Before, the other copy refused
// too ("did not hand over ... only once it is fenced"): neither came online without an operator's force.
// Rule: the secondary that the last primary declared up to date at generation G takes over without force
// when that primary's agent answers, over the cluster's channel, that its copy is not primary and still at
// G (a primary that writes without its peer starts a new generation first). While the old primary is still
// primary (its daemon runs), the secondary keeps refusing.
import t from 'tap'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createLab, labAvailable } from '../../scripts/lab/lab.js'
import { isMccsError } from '../../core/errors.js'
import { mnode, scrub, crash, images, sh, missingTools, unmount, TEST_CLUSTER_KEY, type MNode } from './lab-nodes.js'

const PORT = 17797
const SIZE = 64 * 1024 * 1024
const avail = await labAvailable()
const missing = missingTools()

const refusal = (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => null,
    (e: unknown) => e,
  )

t.test(
  'mirror: after a failed offline and a fence, the up-to-date secondary takes over without force',
  { skip: !avail.ok ? avail.reason : missing.length ? `missing ${missing.join(', ')}` : false },
  async (t) => {
    const lab = await createLab({ prefix: `mccs${process.pid}cp-`, nodes: 2, links: 1 })
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcp-'))
    images(dir, SIZE)
    // The agents' channel: n2 asks n1's agent for its side; `channel` is whether n1's agent answers.
    let channel = false
    let a: MNode = mnode(lab, dir, 0, path.join(dir, 'p1'), PORT)
    const b: MNode = mnode(lab, dir, 1, path.join(dir, 'p2'), PORT, TEST_CLUSTER_KEY, {
      peerStatus: async () => {
        if (!channel) throw new Error('no answer from n1')
        return a.vol.status()
      },
    })
    t.teardown(async () => {
      for (const n of [a, b]) await scrub(n, dir)
      fs.rmSync(dir, { recursive: true, force: true })
      await lab.destroy()
    })
    fs.mkdirSync(a.mnt)
    fs.mkdirSync(b.mnt)

    await b.vol.becomeSecondary()
    await a.vol.becomePrimary({ force: true })
    await a.vol.waitInSync(60_000)
    const dev = await a.vol.attach()
    sh(['mkfs.ext4', '-q', '-F', dev])
    sh(['mount', dev, a.mnt])
    fs.writeFileSync(path.join(a.mnt, 'acknowledged'), 'one\n')
    sh(['sync', '-f', path.join(a.mnt, 'acknowledged')])

    // While n1 is primary (its daemon runs), n2 refuses even though n1's agent answers.
    channel = true
    const e0 = await refusal(b.vol.becomePrimary())
    t.ok(isMccsError(e0, 'MCCS_ERR_MIRROR_OUTDATED'), `n2 refuses while n1 is primary (${String((e0 as Error | null)?.message)})`)

    // The offline's unmount and detach succeed, then n1 is fenced (its daemons killed) and its agent
    // starts again with the same process records.
    await unmount(a)
    await a.vol.detach()
    a.vol.close()
    await crash(a)
    a = mnode(lab, dir, 0, path.join(dir, 'p1'), PORT)

    const e1 = await refusal(a.vol.becomePrimary())
    t.ok(
      isMccsError(e1, 'MCCS_ERR_MIRROR_OUTDATED'),
      `n1, stopped as primary without a clean demotion, refuses (${String((e1 as Error | null)?.message)})`,
    )
    channel = false
    const e2 = await refusal(b.vol.becomePrimary())
    t.ok(
      isMccsError(e2, 'MCCS_ERR_MIRROR_OUTDATED'),
      `without an answer from n1's agent and no fence, n2 refuses (${String((e2 as Error | null)?.message)})`,
    )
    channel = true
    const sb = await b.vol.becomePrimary()
    t.equal(sb.role, 'primary', "with n1's agent answering that its copy is not primary and still at G, n2 becomes primary without force")
    const dev2 = await b.vol.attach()
    sh(['e2fsck', '-p', dev2])
    sh(['mount', dev2, b.mnt])
    t.equal(fs.readFileSync(path.join(b.mnt, 'acknowledged'), 'utf8'), 'one\n', 'with the acknowledged write')
    await unmount(b)
    await b.vol.detach()
  },
)
