// The heartbeat's state file (core/cluster/heartbeat-state.ts): written at start and when a peer's
// incarnation changes, never per packet; a bad or foreign file is named in the log and in status, and the
// heartbeat runs on; a file that cannot be written does not stop the heartbeat either.
import { randomBytes } from 'node:crypto'
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import t from 'tap'
import { Heartbeat } from '../../core/cluster/heartbeat.js'
import { loadHbState } from '../../core/cluster/heartbeat-state.js'
import { newIncarnation } from '../../core/cluster/packet.js'
import type { HbConfig } from '../../core/config/hb-model.js'
import type { Log } from '../../core/log/logger.js'

const port = 20000 + (process.pid % 20000)
const key = randomBytes(32)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const cfg: HbConfig = {
  generation: 1,
  cluster: 'st',
  port,
  timing: { intervalMs: 20, deadMs: 200 },
  links: [{ name: 'a', priority: 0 }],
  nodes: [1, 2].map((i) => ({ name: `n${i}`, addresses: { a: `127.0.7.${i}` } })),
}

async function until(fn: () => boolean, ms = 3000, what = 'condition'): Promise<void> {
  const t0 = Date.now()
  while (!fn()) {
    if (Date.now() - t0 > ms) throw new Error(`timeout waiting for ${what}`)
    await sleep(5)
  }
}

function memLog(): Log & { lines: Array<{ level: string; msg: string; data?: Record<string, unknown> }> } {
  const lines: Array<{ level: string; msg: string; data?: Record<string, unknown> }> = []
  return {
    lines,
    log: (level: string, msg: string, data?: Record<string, unknown>) => {
      lines.push({ level, msg, ...(data ? { data } : {}) })
    },
  } as never
}

t.test('written at start and on a new peer incarnation, not per packet', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'mccs-hb-state-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const f1 = path.join(dir, 'n1.json')
  const h1 = new Heartbeat({ config: cfg, self: 'n1', key, stateFile: f1 })
  const h2 = new Heartbeat({ config: cfg, self: 'n2', key })
  t.teardown(() => Promise.all([h1.stop(), h2.stop()]))
  await h1.start()
  t.same(JSON.parse(await readFile(f1, 'utf8')), {
    version: 1,
    cluster: 'st',
    node: 'n1',
    incarnation: h1.incarnation.toString(),
    peers: {},
  })
  t.equal((await stat(f1)).mode & 0o777, 0o600)
  await h2.start()
  await until(() => h1.isUp('n2'), 3000, 'n2 up')
  await sleep(50)
  const saved = JSON.parse(await readFile(f1, 'utf8')) as { peers: Record<string, string> }
  t.same(saved.peers, { n2: h2.incarnation.toString() }, "n2's incarnation saved")
  const ino = (await stat(f1)).ino
  await sleep(500) // ~25 packets from n2
  t.equal((await stat(f1)).ino, ino, 'no rewrite while nothing changed (an atomic write replaces the inode)')
  t.same(h1.status().state, { file: f1, error: null })
})

t.test('an invalid or foreign file is named in the log and status, and replaced', async (t) => {
  const dir = await mkdtemp(path.join(tmpdir(), 'mccs-hb-state-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const f = path.join(dir, 'hb.json')
  const expect = { cluster: 'st', node: 'n1' }
  t.same(loadHbState(f, expect), { state: { peers: new Map() }, error: null }, 'missing: a first start, no error')
  const cases: Array<[string, RegExp]> = [
    ['{not json', /invalid/],
    ['[]', /not a JSON object/],
    [JSON.stringify({ version: 2, node: 'n1' }), /version/],
    [JSON.stringify({ version: 1, cluster: 'st', node: 'n9', incarnation: '5' }), /node/],
    [JSON.stringify({ version: 1, cluster: 'st', node: 'n1', incarnation: 5 }), /incarnation: must be/],
    [JSON.stringify({ version: 1, cluster: 'st', node: 'n1', incarnation: '18446744073709551616' }), /incarnation: must be/],
    [JSON.stringify({ version: 1, cluster: 'st', node: 'n1', peers: { n2: '-1' } }), /peers\/n2/],
    [JSON.stringify({ version: 1, cluster: 'st', node: 'n1', peers: [] }), /peers: must be/],
  ]
  for (const [text, re] of cases) {
    await writeFile(f, text)
    const r = loadHbState(f, expect)
    t.match(r.error, re, `${text.slice(0, 60)} -> ${r.error}`)
    t.equal(r.state.peers.size, 0)
    t.equal(r.state.incarnation, undefined)
  }
  // Another cluster: our own incarnation still counts (it must not go back), its peers do not.
  const mine = newIncarnation(Date.now() + 60_000)
  await writeFile(f, JSON.stringify({ version: 1, cluster: 'old', node: 'n1', incarnation: mine.toString(), peers: { n2: '7' } }))
  const other = loadHbState(f, expect)
  t.match(other.error, /peers of cluster "old" ignored/)
  t.equal(other.state.incarnation, mine)
  t.equal(other.state.peers.size, 0)

  // Through the Heartbeat: logged at error, shown in status, the heartbeat runs and the file is rewritten.
  await writeFile(f, '{not json')
  const log = memLog()
  const h = new Heartbeat({ config: cfg, self: 'n1', key, stateFile: f, log })
  t.teardown(() => h.stop())
  t.match(h.status().state.error, /invalid, ignored and rewritten/)
  t.ok(
    log.lines.some((l) => l.level === 'error' && /heartbeat state file/.test(l.msg)),
    'logged',
  )
  await h.start()
  t.equal((JSON.parse(await readFile(f, 'utf8')) as { incarnation: string }).incarnation, h.incarnation.toString(), 'rewritten at start')
})

t.test('a state file that cannot be written does not stop the heartbeat', async (t) => {
  const f = path.join(tmpdir(), `mccs-no-such-dir-${process.pid}`, 'hb.json')
  const log = memLog()
  const h1 = new Heartbeat({ config: cfg, self: 'n1', key, stateFile: f, log })
  const h2 = new Heartbeat({ config: cfg, self: 'n2', key })
  t.teardown(() => Promise.all([h1.stop(), h2.stop()]))
  await Promise.all([h1.start(), h2.start()])
  await until(() => h1.isUp('n2') && h2.isUp('n1'), 3000, 'up')
  t.match(h1.status().state.error, /cannot write \(ENOENT\)/)
  t.equal(log.lines.filter((l) => /not saved/.test(l.msg)).length, 1, 'logged once, not per attempt')
})
