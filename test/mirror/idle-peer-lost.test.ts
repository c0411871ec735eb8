// An idle primary whose peer's daemon died (killed, crashed, then started again by the standby's monitor)
// went on reporting Connected: with no write in flight the mirror job never fails, although qsd's NBD
// connections to the peer are closed, and the secondary's restarted daemon counts itself Outdated. Both
// the console and `mccs mirror status` said Connected until the next write. Now the tick sees the
// primary's connections to the peer gone and treats it as a lost peer: Disconnected (a new generation,
// the peer outdated), then a reconnect with a partial resync.
import t from 'tap'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import crypto from 'node:crypto'
import { ProcManager } from '../../core/plugins/caps/proc.js'
import { MirrorVolume } from '../../core/mirror/volume.js'
import { missingTools, killPid, sleep } from './lab-nodes.js'

const missing = missingTools()

t.test(
  "an idle primary sees its peer's daemon gone: Disconnected, then Connected again",
  { skip: missing.length ? `missing ${missing.join(', ')}` : false },
  async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mip-'))
    const key = crypto.randomBytes(32)
    const port = 20000 + Math.floor(Math.random() * 20000)
    const nodes = (['n1', 'n2'] as const).map((name, i) => {
      const backing = path.join(dir, `${name}.img`)
      fs.writeFileSync(backing, '')
      fs.truncateSync(backing, 16 * 1024 * 1024)
      const procs = new ProcManager({ stateDir: path.join(dir, `p${i}`) })
      const vol = new MirrorVolume(
        {
          resource: 'md0',
          node: name,
          backing,
          runDir: path.join(dir, `r${i}`),
          listen: { host: i === 0 ? '127.0.0.2' : '127.0.0.1', port },
          peer: { host: i === 0 ? '127.0.0.1' : '127.0.0.2', port },
          mode: 'sync',
          secret: { cluster: 'lab', key },
        },
        procs,
      )
      return { procs, vol }
    })
    t.teardown(async () => {
      for (const n of nodes) {
        n.vol.close()
        for (const name of ['qsd', 'relay']) {
          const s = await n.procs.status('mirror.md0', name).catch(() => null)
          killPid(s?.supervisorPid)
          killPid(s?.pid)
        }
        n.procs.close()
      }
      fs.rmSync(dir, { recursive: true, force: true })
    })
    await nodes[1]!.vol.becomeSecondary()
    await nodes[0]!.vol.becomePrimary({ force: true })
    await nodes[0]!.vol.waitInSync(15_000)
    t.equal((await nodes[0]!.vol.status()).replication?.state, 'Connected', 'in sync')
    killPid((await nodes[1]!.procs.status('mirror.md0', 'qsd')).pid)
    const t0 = Date.now()
    let state: string | undefined
    while (Date.now() - t0 < 15_000) {
      state = (await nodes[0]!.vol.status()).replication?.state
      if (state === 'Disconnected') break
      await sleep(200)
    }
    t.equal(state, 'Disconnected', `the primary reports its peer lost, with no write (${Date.now() - t0} ms after the kill)`)
    // The standby's daemon starts again: the primary reconnects (a partial resync) without any write.
    await nodes[1]!.vol.becomeSecondary()
    await nodes[0]!.vol.waitInSync(20_000)
    t.equal((await nodes[0]!.vol.status()).replication?.state, 'Connected', 'Connected again')
  },
)
