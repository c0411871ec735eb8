// Issue 16, acceptance 5 (a newer configuration for an older agent), for `mccs setup --join`: a member of a
// newer MCCS hands this host an hb.json (or main.json) of a schema version this agent does not read. The
// join is refused with the file, the version and the highest this agent reads; nothing is written on this
// host, and the member is never told "written" (it adds the node only then). The member here speaks the join
// protocol (core/setup/join-protocol.ts) over the token's TLS-PSK on 127.0.0.1, as a newer one would.
import t, { type Test } from 'tap'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { writeFileSync } from 'node:fs'
import type { AddressInfo } from 'node:net'
import os from 'node:os'
import path from 'node:path'
import tls from 'node:tls'
import { main } from '../../core/cli/main.js'
import { pskServerOptions } from '../../core/cluster/tls.js'
import { JoinConversation, type JoinMessage } from '../../core/setup/join-protocol.js'
import { joinIdentity, joinPsk, newJoinToken } from '../../core/setup/join-token.js'

t.setTimeout(60_000)

/** A member of a newer MCCS: offers node n2 on link l0 and sends `gift` as the configuration. */
async function newerMember(t: Test, gift: { hb: unknown; main: unknown }) {
  const token = newJoinToken()
  const seen: Array<JoinMessage | null> = []
  const server = tls.createServer(
    pskServerOptions((id) => (id === joinIdentity(token) ? joinPsk(token) : null), 10_000),
    (sock) => {
      const conv = new JoinConversation(sock)
      void (async () => {
        seen.push(await conv.next(10_000)) // hello
        conv.send({ t: 'offer', cluster: 'lab', node: 'n2', links: [{ name: 'l0', priority: 0, member: '127.0.0.2' }], port: 14321 })
        seen.push(await conv.next(10_000)) // join
        conv.send({ t: 'config', hb: gift.hb, main: gift.main, key: Buffer.alloc(32, 7).toString('base64'), files: {} })
        seen.push(await conv.next(10_000)) // written / failed / the end
        sock.destroy()
      })()
    },
  )
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  t.teardown(() => new Promise<void>((r) => server.close(() => r())))
  return { token, port: (server.address() as AddressInfo).port, seen }
}

async function joinFrom(home: string, port: number, tokenText: string) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mccs-token-'))
  const f = path.join(dir, 'token')
  writeFileSync(f, tokenText + '\n', { mode: 0o600 })
  const saved = { home: process.env.MCCS_HOME, name: process.env.MCCS_NODE_NAME }
  process.env.MCCS_HOME = home
  delete process.env.MCCS_NODE_NAME
  let out = ''
  try {
    const code = await main(['setup', '--join', `127.0.0.1:${port}`, '--token-file', f, '--link', 'l0=127.0.0.1', '--lang', 'en'], {
      out: (s) => void (out += s + '\n'),
      err: (s) => void (out += s + '\n'),
    })
    return { code, out }
  } finally {
    await rm(dir, { recursive: true, force: true })
    if (saved.home === undefined) delete process.env.MCCS_HOME
    else process.env.MCCS_HOME = saved.home
    if (saved.name !== undefined) process.env.MCCS_NODE_NAME = saved.name
  }
}

const hbV = (v: number) => ({
  schemaVersion: v,
  generation: 2,
  cluster: 'lab',
  nodes: [
    { name: 'n1', addresses: { l0: '127.0.0.2' } },
    { name: 'n2', addresses: { l0: '127.0.0.1' } },
  ],
  links: [{ name: 'l0', priority: 0 }],
  timing: { intervalMs: 100, deadMs: 600 },
  port: 14321,
  quorum: { twoNode: true },
})
const mainV = (v: number) => ({ schemaVersion: v, generation: 1, groups: [], resources: [], dependencies: [] })

for (const [file, gift] of [
  ['hb.json', { hb: hbV(3), main: mainV(2) }],
  ['main.json', { hb: hbV(2), main: mainV(3) }],
] as const) {
  t.test(`a join handed a newer ${file} is refused; nothing written here, the member never told "written"`, async (t) => {
    const home = await mkdtemp(path.join(os.tmpdir(), 'mccs-joinv-'))
    t.teardown(() => rm(home, { recursive: true, force: true }))
    const before = (await readdir(home, { recursive: true })).sort()
    const m = await newerMember(t, gift)
    const r = await joinFrom(home, m.port, m.token.text)
    t.equal(r.code, 6, `exit 6 (a configuration this agent cannot take): ${r.out.trim()}`)
    t.match(
      r.out,
      new RegExp(`${file.replace('.', '\\.')}.*/schemaVersion: is 3, but this agent reads ${file.replace('.', '\\.')} up to version 2`),
    )
    t.match(r.out, /Upgrade this agent/)
    t.same((await readdir(home, { recursive: true })).sort(), before, 'nothing written on this host')
    await new Promise((res) => setTimeout(res, 100))
    t.equal(m.seen[0]?.t, 'hello')
    t.equal(m.seen[1]?.t, 'join', 'the join was asked for')
    t.not(m.seen[2]?.t, 'written', `the member was not told "written" (${m.seen[2]?.t ?? 'the connection ended'})`)
  })
}
