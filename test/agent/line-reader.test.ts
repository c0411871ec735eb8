// The one line framer for newline-delimited sockets (core/line-reader.ts), as the control socket and the
// peer channel use it: a line longer than the limit ends the connection (counted in bytes, whole or
// still unfinished), while many short lines arriving together are all delivered.
import t, { type Test } from 'tap'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { LineFramer, readLines } from '../../core/line-reader.js'

const MAX = 1000

/** A server that frames with readLines(MAX) and a connected client; `lines` and `closed` on the server side. */
async function pair(t: Test): Promise<{ client: net.Socket; lines: string[]; closed: () => boolean }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mccs-lines-'))
  const sockPath = path.join(dir, 's')
  const lines: string[] = []
  let closed = false
  const server = net.createServer((sock) => {
    sock.on('error', () => {})
    sock.on('close', () => {
      closed = true
    })
    readLines(sock, MAX, (l) => lines.push(l))
  })
  await new Promise<void>((r) => server.listen(sockPath, r))
  const client = net.connect(sockPath)
  client.on('error', () => {})
  await new Promise((r) => client.once('connect', r))
  t.teardown(() => {
    client.destroy()
    server.close()
    fs.rmSync(dir, { recursive: true, force: true })
  })
  return { client, lines, closed: () => closed }
}

const until = async (cond: () => boolean, ms = 5000): Promise<boolean> => {
  const end = Date.now() + ms
  while (!cond() && Date.now() < end) await new Promise((r) => setTimeout(r, 10))
  return cond()
}

t.test('many short lines written at once are all delivered, in order (together longer than the limit)', async (t) => {
  const p = await pair(t)
  const sent = Array.from({ length: 200 }, (_, i) => `{"id":${i},"method":"status"}`)
  p.client.write(sent.join('\n') + '\n') // ~6 KiB in one write: six times the limit
  t.ok(await until(() => p.lines.length === sent.length || p.closed()), 'every line arrives')
  t.same(p.lines, sent)
  t.notOk(p.closed(), 'the connection stays open')
})

t.test('a whole line over the limit ends the connection; the lines before it are delivered', async (t) => {
  const p = await pair(t)
  p.client.write(`ok\n${'x'.repeat(MAX + 1)}\nafter\n`)
  t.ok(await until(p.closed), 'closed')
  t.same(p.lines, ['ok'], 'the oversized line and what follows are not delivered')
})

t.test('an unfinished line over the limit ends the connection without waiting for its end', async (t) => {
  const p = await pair(t)
  p.client.write('y'.repeat(MAX / 2))
  await new Promise((r) => setTimeout(r, 50))
  p.client.write('y'.repeat(MAX / 2 + 1))
  t.ok(await until(p.closed), 'closed')
  t.same(p.lines, [])
})

t.test('the limit counts bytes: 600 two-byte characters are over a 1000-byte limit', async (t) => {
  const p = await pair(t)
  p.client.write('é'.repeat(499) + '\n') // 998 bytes: fits
  t.ok(await until(() => p.lines.length === 1))
  t.equal(p.lines[0], 'é'.repeat(499), 'a character split across chunks is decoded whole')
  p.client.write('é'.repeat(600) + '\n')
  t.ok(await until(p.closed), 'closed')
  t.equal(p.lines.length, 1)
})

t.test('a line of exactly the limit passes', async (t) => {
  const p = await pair(t)
  p.client.write('z'.repeat(MAX) + '\n')
  t.ok(await until(() => p.lines.length === 1))
  t.equal(p.lines[0]!.length, MAX)
  t.notOk(p.closed())
})

t.test('LineFramer: lines across chunks, multi-byte characters split between chunks, stop and overflow', async (t) => {
  const f = new LineFramer(10)
  const got: string[] = []
  const bytes = Buffer.from('ab\nü€\n', 'utf8')
  for (const b of bytes)
    t.equal(
      f.push(Buffer.from([b]), (l) => {
        got.push(l)
      }),
      true,
    )
  t.same(got, ['ab', 'ü€'], 'one byte at a time')
  got.length = 0
  t.equal(
    f.push('1\n2\n3\n', (l) => {
      got.push(l)
      return l !== '2'
    }),
    true,
  )
  t.same(got, ['1', '2'], 'a handler answering false stops the chunk')
  t.equal(
    f.push('0123456789\n', (l) => {
      got.push(l)
    }),
    true,
    '10 bytes fit a 10-byte limit',
  )
  t.equal(
    f.push('0123456789a', () => {}),
    false,
    'an unfinished 11-byte line is over',
  )
  t.equal(
    f.push('b\nnext\n', (l) => {
      got.push(l)
    }),
    true,
    'after an overflow the framer starts empty',
  )
  t.same(got.slice(-2), ['b', 'next'])
})
