// Mirror disk (issue 15): the replication port is authenticated and encrypted (NBD over TLS with a
// pre-shared key derived from the cluster key per cluster and volume).
//   - a client without the key (nbdinfo, qemu-io) cannot list, read or write the secondary's exports
//     ("vol", the volume, and "meta", the 4 KiB up-to-date record);
//   - a client with the key of another cluster is refused too;
//   - a capture of the replication traffic does not contain a marker written into the volume, while
//     the marker did reach the secondary's disk (so it travelled on that link, encrypted).
import t from 'tap'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import crypto from 'node:crypto'
import { createLab, labAvailable } from '../../scripts/lab/lab.js'
import { mnode, scrub, images, sh, sleep, killPid, missingTools, type MNode } from './lab-nodes.js'

const PORT = 17791
const SIZE = 64 * 1024 * 1024
const avail = await labAvailable()
const missing = [...missingTools(), '/usr/bin/tcpdump', '/usr/bin/qemu-io', '/usr/bin/nbdinfo'].filter((f) => !fs.existsSync(f))

t.test(
  'mirror replication port: TLS-PSK only',
  { skip: !avail.ok ? avail.reason : missing.length ? `missing ${missing.join(', ')}` : false },
  async (t) => {
    const lab = await createLab({ prefix: `mccs${process.pid}t-`, nodes: 2, links: 1, client: true })
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mt-'))
    images(dir, SIZE)
    const a: MNode = mnode(lab, dir, 0, path.join(dir, 'p1'), PORT)
    const b: MNode = mnode(lab, dir, 1, path.join(dir, 'p2'), PORT)
    let dump: ReturnType<typeof lab.spawn> | null = null
    t.teardown(async () => {
      if (dump?.pid) killPid(dump.pid)
      for (const n of [a, b]) await scrub(n, dir)
      fs.rmSync(dir, { recursive: true, force: true })
      await lab.destroy()
    })
    await b.vol.becomeSecondary()
    const url = (exp: string): string => `nbd://${b.addr}:${PORT}/${exp}`

    // No key at all: from the client namespace (anyone on the replication network).
    for (const exp of ['vol', 'meta']) {
      const info = await lab.exec('client', ['nbdinfo', url(exp)], { timeoutMs: 15_000, check: false })
      t.not(info.code, 0, `nbdinfo without the key cannot open "${exp}" (${info.stderr.trim().split('\n')[0] ?? ''})`)
      const w = await lab.exec('client', ['qemu-io', '-f', 'raw', '-c', 'write -P 0x58 0 4096', url(exp)], {
        timeoutMs: 15_000,
        check: false,
      })
      t.not(
        w.code === 0 && /wrote 4096/.test(w.stdout),
        true,
        `qemu-io without the key cannot write "${exp}" (${(w.stderr || w.stdout).trim().split('\n')[0] ?? ''})`,
      )
    }
    // A PSK of another cluster key: the handshake fails.
    const other = path.join(dir, 'otherpsk')
    fs.mkdirSync(other, { mode: 0o700 })
    fs.writeFileSync(path.join(other, 'keys.psk'), `mccs:${crypto.randomBytes(32).toString('hex')}\n`, { mode: 0o600 })
    const wk = await lab.exec(
      'client',
      [
        'qemu-io',
        '--object',
        `tls-creds-psk,id=t0,endpoint=client,dir=${other},username=mccs`,
        '--image-opts',
        '-c',
        'write -P 0x58 0 4096',
        `driver=nbd,server.type=inet,server.host=${b.addr},server.port=${PORT},export=vol,tls-creds=t0`,
      ],
      { timeoutMs: 15_000, check: false },
    )
    t.not(
      wk.code === 0 && /wrote 4096/.test(wk.stdout),
      true,
      `qemu-io with another key cannot write (${(wk.stderr || wk.stdout).trim().split('\n')[0] ?? ''})`,
    )
    const before = fs.readFileSync(path.join(dir, 'n2.img')).subarray(0, 4096)
    t.not(
      before.every((x) => x === 0x58),
      true,
      "the secondary's first block was not overwritten by any of them",
    )

    // The real primary connects (it has the key) and the traffic is encrypted.
    await a.vol.becomePrimary({ force: true })
    await a.vol.waitInSync(60_000)
    const pcap = path.join(dir, 'repl.pcap')
    dump = lab.spawn(1, ['tcpdump', '-i', 'eth0', '-U', '-s', '0', '-w', pcap, 'tcp', 'port', String(PORT)])
    await sleep(1000)
    const dev = await a.vol.attach()
    const marker = `MCCS-PLAINTEXT-MARKER-${crypto.randomBytes(8).toString('hex')}`
    const block = Buffer.alloc(65536, 0)
    for (let o = 0; o + marker.length < block.length; o += 512) block.write(marker, o)
    fs.writeFileSync(path.join(dir, 'marker.bin'), block)
    sh(['dd', `if=${path.join(dir, 'marker.bin')}`, `of=${dev}`, 'bs=65536', 'seek=16', 'oflag=direct,sync', 'conv=notrunc', 'status=none'])
    await sleep(1500)
    killPid(dump.pid)
    await sleep(300)
    const cap = fs.readFileSync(pcap)
    t.ok(cap.length > 2000, `replication traffic was captured (${cap.length} bytes)`)
    t.equal(cap.indexOf(marker), -1, 'the capture does not contain the marker in clear')
    const sec = fs.readFileSync(path.join(dir, 'n2.img'))
    t.not(sec.indexOf(marker), -1, "the marker is on the secondary's disk (it crossed that link, encrypted)")
    const keyDir = path.join(a.vol.c.runDir, 'tls')
    t.equal(fs.statSync(keyDir).mode & 0o777, 0o700, 'key folder 0700')
    t.equal(fs.statSync(path.join(keyDir, 'keys.psk')).mode & 0o777, 0o600, 'key file 0600')
    const q = await a.procs.status('mirror.md0', 'qsd')
    const cmdline = fs.readFileSync(`/proc/${q.pid}/cmdline`, 'utf8')
    t.equal(
      cmdline.includes(fs.readFileSync(path.join(keyDir, 'keys.psk'), 'utf8').split(':')[1]!.trim()),
      false,
      "the key is not on the daemon's command line",
    )
  },
)
