// The volume's file system in other mount namespaces (core/mirror/mounts.ts): a process that took its
// own mount namespace while the file system was mounted holds a copy; the unmount ends that copy too (the
// file system is shut down when it returns), a busy copy is refused naming where it is, and a device
// still in use is never taken for released (detach's check).
import t from 'tap'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import crypto from 'node:crypto'
import { spawn, type ChildProcess } from 'node:child_process'
import { unmountEverywhere, assertReleased } from '../../core/mirror/mounts.js'
import { sh, killPid, sleep } from './lab-nodes.js'

const root = process.getuid?.() === 0
const tools = ['/usr/sbin/mkfs.ext4', '/usr/sbin/losetup', '/usr/bin/unshare', '/usr/bin/nsenter'].filter((f) => !fs.existsSync(f))

const sum = (f: string): string => crypto.createHash('sha256').update(fs.readFileSync(f)).digest('hex')
const inNs = (pid: number, mp: string): boolean => fs.readFileSync(`/proc/${pid}/mountinfo`, 'utf8').includes(` ${mp} `)

async function holder(argv: string[], mp: string): Promise<ChildProcess> {
  const c = spawn('unshare', ['-m', '--propagation', 'slave', ...argv], { stdio: 'ignore' })
  for (let i = 0; i < 100 && !(c.pid && fs.existsSync(`/proc/${c.pid}`) && inNs(c.pid, mp)); i++) await sleep(50)
  return c
}

t.test(
  'mirror mounts: a copy in another mount namespace is unmounted too; a busy one is refused by name',
  { skip: !root ? 'needs root' : tools.length ? `missing ${tools.join(', ')}` : false },
  async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mm-'))
    const img = path.join(dir, 'img')
    const mnt = path.join(dir, 'm')
    fs.mkdirSync(mnt)
    fs.writeFileSync(img, '')
    fs.truncateSync(img, 64 << 20)
    sh(['mkfs.ext4', '-q', '-F', img])
    const dev = sh(['losetup', '--find', '--show', img]).trim()
    const kids: ChildProcess[] = []
    t.teardown(() => {
      for (const k of kids) killPid(k.pid)
      for (const argv of [
        ['umount', '-l', mnt],
        ['losetup', '-d', dev],
      ])
        try {
          sh(argv)
        } catch {
          /* gone */
        }
      fs.rmSync(dir, { recursive: true, force: true })
    })
    sh(['mount', dev, mnt])

    // A copy, idle: unmounted with the rest; the file system is shut down when the unmount returns.
    const idle = await holder(['sleep', '600'], mnt)
    kids.push(idle)
    t.ok(inNs(idle.pid!, mnt), 'the other namespace holds a copy of the mount')
    fs.writeFileSync(path.join(mnt, 'f'), 'data\n')
    sh(['sync', '-f', path.join(mnt, 'f')])
    t.throws(
      () => assertReleased(dev),
      { code: 'MCCS_ERR_MIRROR_ROLE', message: new RegExp(`${mnt} in the mount namespace of pid`) },
      'a mounted device is not released (detach refuses), naming where',
    )
    await unmountEverywhere(mnt, dev)
    t.notOk(inNs(idle.pid!, mnt), "the other namespace's copy is gone too")
    const after = sum(img)
    killPid(idle.pid)
    await new Promise((r) => idle.once('exit', r))
    await sleep(200)
    t.equal(sum(img), after, 'nothing reaches the image when that namespace ends (the file system was shut down already)')
    t.doesNotThrow(() => assertReleased(dev), 'the device is released')

    // A copy in use there (a process's working folder inside it): refused, naming that namespace.
    sh(['mount', dev, mnt])
    const busy = await holder(['sh', '-c', `cd ${mnt} && exec sleep 600`], mnt)
    kids.push(busy)
    await t.rejects(
      unmountEverywhere(mnt, dev),
      {
        code: 'MCCS_ERR_MIRROR_ENGINE',
        message: new RegExp(`still mounted at ${mnt} in the mount namespace of pid ${busy.pid} \\(sleep\\)`),
      },
      'a busy copy is refused with its pid and mount point',
    )
    t.throws(() => assertReleased(dev), { code: 'MCCS_ERR_MIRROR_ROLE' }, 'and the device is still not released')
    killPid(busy.pid)
    await new Promise((r) => busy.once('exit', r))
  },
)
