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
  t.teardown(async () => {
    await procs.stop('mirror.md0', 'relay', { graceMs: 2000 }).catch(() => {})
    await procs.stop('mirror.md0', 'qsd', { graceMs: 2000 }).catch(() => {})
    await h.dispose()
    mm.close()
    procs.close()
    fs.rmSync(dir, { recursive: true, force: true })
  })

  const good = {
    backing: path.join(dir, 'disk.img'),
    replicationAddress: '127.0.0.1',
    peerAddress: '127.0.0.2',
    mountPoint: path.join(dir, 'mnt'),
    port: 17997,
  }
  const v = await h.call('validate', {
    args: [
      {
        perNode: {
          n1: { ...good, backing: 'disk.img', port: 80 },
          n2: { ...good, peerAddress: '127.0.0.1', replicationAddress: '127.0.0.1', mode: 'semi' },
        },
      },
    ],
  })
  t.equal(v.answer, 'invalid')
  t.same((v.diagnostics ?? []).map((d) => d.path).sort(), [
    '/nodes/n1/backing',
    '/nodes/n1/port',
    '/nodes/n2/mode',
    '/nodes/n2/peerAddress',
    '/nodes/n2/replicationAddress',
  ])
  const ok = await h.call('validate', {
    args: [{ perNode: { n1: good, n2: { ...good, replicationAddress: '127.0.0.2', peerAddress: '127.0.0.1' } } }],
  })
  t.equal(ok.answer, 'ok', ok.reason ?? '')

  fs.writeFileSync(good.backing, '')
  fs.truncateSync(good.backing, 16 * 1024 * 1024)
  const on = await h.call('online', { resource: 'md0', attrs: good })
  t.equal(on.answer, 'invalid', 'a volume no primary ever declared current is not brought online')
  t.match(on.diagnostics?.[0]?.summary ?? on.reason ?? '', /MCCS_ERR_MIRROR_OUTDATED.*--force/s, 'the answer says why and how to force')
  t.equal((await procs.status('mirror.md0', 'qsd')).running, false, 'no daemon was started')
  const mon = await h.call('monitor', { resource: 'md0', attrs: good })
  t.equal(mon.answer, 'notRunning', JSON.stringify(mon))
  // A node where the resource is offline is the standby: it must export its copy for the primary, or
  // the primary never gets a peer and the standby can never take over.
  t.equal((await procs.status('mirror.md0', 'qsd')).running, true, "the monitor of the offline resource started the secondary's daemon")
  const mon2 = await h.call('monitor', { resource: 'md0', attrs: good })
  t.match(mon2.reason ?? '', /secondary/, `and reports it (${mon2.reason})`)
  t.equal(mon2.answer, 'notRunning', 'still not running as a resource here')
})

// Acceptance 8: bad input refused at validate with the field named, nothing changed.
t.test('validate refuses a used, small or shared backing, a port in use, a nested mount point', async (t) => {
  const { execFileSync } = await import('node:child_process')
  const net = await import('node:net')
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mdv-'))
  const procs = new ProcManager({ stateDir: path.join(dir, 'proc') })
  const mm = new MirrorManager({
    procs,
    runBase: path.join(dir, 'run'),
    secret: () => ({ cluster: 'test', key: Buffer.alloc(32, 7) }),
    mountPoints: (except) => [{ resource: 'fs1', mountPoint: '/srv/data' }].filter((x) => x.resource !== except),
  })
  const h = await createTestHost({ pluginDir, node: 'n1', nodes: ['n1', 'n2'], fakes: { providers: [mirrorProvider(mm)] } })
  const mnt = path.join(dir, 'used-mnt')
  let loop = ''
  const srv = net.createServer()
  t.teardown(async () => {
    srv.close()
    try {
      execFileSync('umount', [mnt])
    } catch {
      /* not mounted */
    }
    if (loop)
      try {
        execFileSync('losetup', ['-d', loop])
      } catch {
        /* gone */
      }
    await h.dispose()
    mm.close()
    procs.close()
    fs.rmSync(dir, { recursive: true, force: true })
  })
  // A file system in use: an image mounted through a loop device.
  const used = path.join(dir, 'used.img')
  fs.writeFileSync(used, '')
  fs.truncateSync(used, 16 << 20)
  execFileSync('mkfs.ext4', ['-q', '-F', used])
  loop = execFileSync('losetup', ['--find', '--show', used], { encoding: 'utf8' }).trim()
  fs.mkdirSync(mnt)
  execFileSync('mount', [loop, mnt])
  const small = path.join(dir, 'small.img')
  fs.writeFileSync(small, Buffer.alloc(1 << 20))
  const good = path.join(dir, 'good.img')
  fs.writeFileSync(good, '')
  fs.truncateSync(good, 64 << 20)
  await new Promise<void>((r) => srv.listen({ host: '127.0.0.1', port: 0 }, () => r()))
  const busyPort = (srv.address() as { port: number }).port
  const n2 = { backing: good, replicationAddress: '127.0.0.2', peerAddress: '127.0.0.1', mountPoint: path.join(dir, 'm'), size: '64M' }
  const base = {
    backing: good,
    replicationAddress: '127.0.0.1',
    peerAddress: '127.0.0.2',
    mountPoint: path.join(dir, 'm'),
    size: '64M',
    port: 17999,
  }
  const paths = async (n1: Record<string, unknown>, other: Record<string, unknown> = n2): Promise<string[]> => {
    const v = await h.call('validate', { args: [{ perNode: { n1, n2: other } }] })
    return (v.diagnostics ?? []).map((d) => `${d.path}: ${d.summary ?? ''}`)
  }
  t.same(await paths(base), [], 'the good attributes pass')
  t.match(
    (await paths({ ...base, backing: loop })).join('\n'),
    /^\/nodes\/n1\/backing: .*mounted at/m,
    'a mounted block device is refused (backing)',
  )
  t.match(
    (await paths({ ...base, backing: used })).join('\n'),
    /^\/nodes\/n1\/backing: .*backing file of \/dev\/loop/m,
    'a file in use by a loop device is refused (backing)',
  )
  t.match(
    (await paths({ ...base, backing: small })).join('\n'),
    /^\/nodes\/n1\/backing: .*less than the volume's size 64M/m,
    'too small (backing)',
  )
  t.match(
    (await paths({ ...base, port: busyPort })).join('\n'),
    new RegExp(`^/nodes/n1/port: port ${busyPort} is already in use`, 'm'),
    'a port in use (port)',
  )
  t.match(
    (await paths({ ...base, mountPoint: '/srv/data/db' })).join('\n'),
    /^\/nodes\/n1\/mountPoint: .*inside fs1's mount point \/srv\/data/m,
    "a mount point inside another resource's (mountPoint)",
  )
  t.match(
    (await paths(base, { ...n2, replicationAddress: '127.0.0.1', peerAddress: '127.0.0.2' })).join('\n'),
    /^\/nodes\/n2\/replicationAddress: .*same replication address/m,
    'the same replication address on both nodes (replicationAddress)',
  )
  t.match(
    (await paths(base, { ...n2, replicationAddress: '127.0.0.3' })).join('\n'),
    /^\/nodes\/n1\/peerAddress: .*n2's replication address/m,
    "a peer address that is not the other node's replication address (peerAddress)",
  )
  t.equal(fs.statSync(small).size, 1 << 20, 'nothing was changed')
})
