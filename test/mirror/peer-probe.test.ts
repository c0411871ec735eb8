// The primary probes its peer (a TCP connect from the daemon's network) before qsd connects to it. With
// `wrap` (the lab: a namespace) the probe is `bash -c 'exec 3<>/dev/tcp/…'` under `timeout 1`. Node gives
// a child's stdin as a socket pair, and bash, taking itself for a remote shell, then sourced ~/.bashrc
// first: a slow one (pyenv init on these hosts, more than 1 s under load) made every probe fail, and the
// mirror stayed Disconnected (the bench's sync row waited 300 s; the lab tests "hung when run in the
// background"). Shown here with a ~/.bashrc that sleeps 2 s and `wrap: ['env']` (no namespace needed).
import t from 'tap'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import crypto from 'node:crypto'
import { ProcManager } from '../../core/plugins/caps/proc.js'
import { MirrorVolume } from '../../core/mirror/volume.js'
import { missingTools, killPid } from './lab-nodes.js'

const missing = missingTools()

t.test(
  'a slow ~/.bashrc does not fail the peer probe: the mirror connects',
  { skip: missing.length ? `missing ${missing.join(', ')}` : false },
  async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mpp-'))
    const home = path.join(dir, 'home')
    fs.mkdirSync(home)
    fs.writeFileSync(path.join(home, '.bashrc'), 'sleep 2\n')
    // An agent started by the service manager has no SHLVL (bash counts itself a top-level shell).
    const old = { HOME: process.env.HOME, SHLVL: process.env.SHLVL }
    process.env.HOME = home
    delete process.env.SHLVL
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
          // n2 (secondary) listens on 127.0.0.1; n1's listen address is never used (it is primary).
          listen: { host: i === 0 ? '127.0.0.2' : '127.0.0.1', port },
          peer: { host: i === 0 ? '127.0.0.1' : '127.0.0.2', port },
          mode: 'sync',
          secret: { cluster: 'lab', key },
          wrap: ['env'],
        },
        procs,
      )
      return { procs, vol }
    })
    t.teardown(async () => {
      for (const [k, v] of Object.entries(old))
        if (v === undefined) delete process.env[k]
        else process.env[k] = v
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
    const t0 = Date.now()
    await nodes[0]!.vol.waitInSync(15_000)
    t.pass(`in sync ${Date.now() - t0} ms after the promotion`)
    const s = await nodes[0]!.vol.status()
    t.equal(s.replication?.state, 'Connected', 'the primary replicates to its peer')
  },
)
