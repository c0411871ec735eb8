// mirror-disk in the real sandbox with the real `mirror` capability (no lab: nothing here starts a
// daemon): validate names the fields; online on a node whose data was never declared current refuses
// with the reason and how to force, and starts nothing.
import t from 'tap'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { createTestHost } from '@mccs/plugin-kit/testing'
import { ProcManager } from '../../../core/plugins/caps/proc.js'
import { mirrorProvider } from '../../../core/plugins/caps/mirror.js'
import { MirrorManager } from '../../../core/mirror/manager.js'

const pluginDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

t.test('validate names each bad field; online refuses outdated data', async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mdp-'))
  const procs = new ProcManager({ stateDir: path.join(dir, 'proc') })
  const mm = new MirrorManager({ procs, runBase: path.join(dir, 'run'), secret: () => ({ cluster: 'test', key: Buffer.alloc(32, 7) }) })
  const h = await createTestHost({ pluginDir, fakes: { providers: [mirrorProvider(mm)] } })
  t.teardown(async () => { await h.dispose(); mm.close(); procs.close(); fs.rmSync(dir, { recursive: true, force: true }) })

  const good = { backing: path.join(dir, 'disk.img'), replicationAddress: '127.0.0.1', peerAddress: '127.0.0.2', mountPoint: path.join(dir, 'mnt') }
  const v = await h.call('validate', { args: [{ perNode: {
    n1: { ...good, backing: 'disk.img', port: 80 },
    n2: { ...good, peerAddress: '127.0.0.1', replicationAddress: '127.0.0.1', mode: 'semi' },
  } }] })
  t.equal(v.answer, 'invalid')
  t.same((v.diagnostics ?? []).map((d) => d.path).sort(), ['/nodes/n1/backing', '/nodes/n1/port', '/nodes/n2/mode', '/nodes/n2/peerAddress'])
  const ok = await h.call('validate', { args: [{ perNode: { n1: good, n2: { ...good, replicationAddress: '127.0.0.2', peerAddress: '127.0.0.1' } } }] })
  t.equal(ok.answer, 'ok', ok.reason ?? '')

  fs.writeFileSync(good.backing, '')
  fs.truncateSync(good.backing, 16 * 1024 * 1024)
  const on = await h.call('online', { resource: 'md0', attrs: good })
  t.equal(on.answer, 'invalid', 'a volume no primary ever declared current is not brought online')
  t.match(on.diagnostics?.[0]?.summary ?? on.reason ?? '', /MCCS_ERR_MIRROR_OUTDATED.*--force/s, 'the answer says why and how to force')
  t.equal((await procs.status('mirror.md0', 'qsd')).running, false, 'no daemon was started')
  const mon = await h.call('monitor', { resource: 'md0', attrs: good })
  t.equal(mon.answer, 'notRunning', JSON.stringify(mon))
})
