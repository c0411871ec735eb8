// mccs mirror (issue 15): what the operator sees from the CLI, against a control socket that answers
// as the agent does (core/api/control-server.ts → core/mirror/control.ts), and the control's own
// validation (field named, nothing done).
import t, { type Test } from 'tap'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { mirrorCommand, describeSide } from '../../core/cli/mirror-cmd.js'
import { mirrorControl } from '../../core/mirror/control.js'
import type { MirrorManager } from '../../core/mirror/manager.js'

const primary = {
  resource: 'md0',
  node: 'n1',
  role: 'primary',
  daemon: { running: true, pid: 1 },
  generation: { current: 'AAAA', history: ['BBBB'], role: 'primary', updatedAt: '' },
  peerRecord: null,
  peerOutdated: null,
  attached: { device: '/dev/loop3', ok: true },
  dirtyBytes: 10485760,
  splitBrain: null,
  replication: {
    state: 'SyncSource',
    percent: 40,
    job: null,
    resync: { mode: 'partial', bytes: 10485760, done: 4194304, rateBps: 2097152, etaS: 3, startedAt: '' },
  },
}
const secondary = {
  ...primary,
  node: 'n2',
  role: 'secondary',
  attached: null,
  dirtyBytes: null,
  replication: null,
  generation: { current: 'BBBB', history: [], role: 'secondary', updatedAt: '' },
  peerRecord: { state: 'SyncTarget', generation: 'AAAA', by: 'n1', at: '' },
}

function fakeAgent(t: Test, answer: (params: Record<string, unknown>) => unknown): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mcmd-'))
  const sock = path.join(dir, 'c.sock')
  const srv = net
    .createServer((c) => {
      let buf = ''
      c.on('data', (d) => {
        buf += d
        if (!buf.includes('\n')) return
        const req = JSON.parse(buf) as { id: number; method: string; params: Record<string, unknown> }
        try {
          c.end(JSON.stringify({ id: req.id, ok: true, result: answer({ method: req.method, ...req.params }) }) + '\n')
        } catch (e) {
          c.end(
            JSON.stringify({ id: req.id, ok: false, error: { code: (e as { code?: string }).code, message: (e as Error).message } }) + '\n',
          )
        }
      })
    })
    .listen(sock)
  t.teardown(() => {
    srv.close()
    fs.rmSync(dir, { recursive: true, force: true })
  })
  return sock
}

const capture = () => {
  const out: string[] = []
  const err: string[] = []
  return { io: { out: (s: string) => out.push(s), err: (s: string) => err.push(s) }, out, err }
}

t.test('status shows both sides with the resync progress', async (t) => {
  const seen: Array<Record<string, unknown>> = []
  const sock = fakeAgent(t, (p) => {
    seen.push(p)
    return [{ resource: 'md0', local: primary, peer: secondary }]
  })
  const c = capture()
  t.equal(await mirrorCommand(['status'], { socket: sock, json: false, force: false }, c.io), 0)
  t.match(seen[0], { method: 'mirror', op: 'status' })
  const text = c.out.join('\n')
  t.match(
    text,
    /n1: primary, disk UpToDate, SyncSource 40 % \(partial, 4\.0 MiB of 10\.0 MiB, 2\.0 MiB\/s, ETA 3 s\), generation AAAA, dirty 10\.0 MiB/,
  )
  t.match(text, /n2: secondary, disk Inconsistent/)
})

t.test('split brain is shown with both generations and how to resolve', async (t) => {
  const sb = {
    ...primary,
    replication: { state: 'SplitBrain', percent: null, job: null },
    splitBrain: {
      detectedAt: '',
      how: 'x',
      local: { node: 'n1', generation: 'AAAA', dirtyBytes: 1048576 },
      peer: { node: 'n2', generation: 'CCCC', dirtyBytes: 2097152 },
    },
  }
  const sock = fakeAgent(t, () => [{ resource: 'md0', local: sb, peer: { error: 'no answer' } }])
  const c = capture()
  await mirrorCommand(['status', 'md0'], { socket: sock, json: false, force: false }, c.io)
  t.match(
    c.out.join('\n'),
    /SPLIT BRAIN: n1 generation AAAA \(1\.0 MiB written alone\) vs n2 generation CCCC \(2\.0 MiB\): mccs mirror resolve md0 --discard <node>/,
  )
  t.match(c.out.join('\n'), /unreachable \(no answer\)/)
})

t.test('verify: equal exits 0, differences exit 1 with the ranges', async (t) => {
  let equal = true
  const sock = fakeAgent(t, () => ({
    resource: 'md0',
    size: 1 << 30,
    chunk: 1 << 20,
    chunks: 1024,
    ms: 5,
    equal,
    differing: equal ? [] : [{ offset: 314572800, length: 1048576 }],
  }))
  const c = capture()
  t.equal(await mirrorCommand(['verify', 'md0'], { socket: sock, json: false, force: false }, c.io), 0)
  t.match(c.out[0], /both copies equal \(1024 chunks/)
  equal = false
  t.equal(await mirrorCommand(['verify', 'md0'], { socket: sock, json: false, force: false }, c.io), 1)
  t.match(c.out[1], /copies DIFFER\n {2}offset 314572800 length 1048576/)
})

t.test('usage: resolve needs --discard, primary needs --force; the agent is not asked', async (t) => {
  let asked = 0
  const sock = fakeAgent(t, () => {
    asked++
    return {}
  })
  const c = capture()
  t.equal(await mirrorCommand(['resolve', 'md0'], { socket: sock, json: false, force: false }, c.io), 2)
  t.match(c.err.join('\n'), /--discard <node> is required/)
  t.equal(await mirrorCommand(['primary', 'md0'], { socket: sock, json: false, force: false }, c.io), 2)
  t.match(c.err.join('\n'), /--force is required/)
  t.equal(await mirrorCommand(['bogus'], { socket: sock, json: false, force: false }, c.io), 2)
  t.equal(asked, 0)
  const sock2 = fakeAgent(t, (p) => {
    asked++
    return { resource: 'md0', discarded: { node: p.discard }, kept: { node: 'n1' } }
  })
  t.equal(await mirrorCommand(['resolve', 'md0'], { socket: sock2, json: false, force: false, discard: 'n2' }, c.io), 0)
  t.equal(asked, 1)
})

t.test('the control refuses bad input naming the field', async (t) => {
  const mm = { peerRequest: undefined, known: () => null, resources: () => [] } as unknown as MirrorManager
  await t.rejects(mirrorControl(mm, { op: 'format' }), { code: 'MCCS_ERR_INVALID', field: 'params.op' })
  await t.rejects(mirrorControl(mm, { op: 'verify', resource: 'a b' }), { code: 'MCCS_ERR_INVALID', field: 'params.resource' })
  await t.rejects(mirrorControl(mm, { op: 'resolve', resource: 'md0', discard: 5 }), { code: 'MCCS_ERR_INVALID', field: 'params.discard' })
  await t.rejects(mirrorControl(mm, { op: 'primary', resource: 'md0', force: false, user: 'u' }), {
    code: 'MCCS_ERR_INVALID',
    field: 'params.force',
  })
  await t.rejects(mirrorControl(mm, { op: 'verify', resource: 'md0' }), { code: 'MCCS_ERR_NOT_FOUND', field: 'params.resource' })
})

t.test('a resync under a rate limit says so, in English and Korean', async (t) => {
  const limited = {
    ...primary,
    replication: { ...primary.replication, resync: { ...primary.replication.resync, limitBps: 16 * 1048576 } },
  } as unknown as Parameters<typeof describeSide>[0]
  t.match(describeSide(limited), /2\.0 MiB\/s, ETA 3 s, limited to 16\.0 MiB\/s\)/)
  t.match(describeSide(limited, 'ko'), /16\.0 MiB\/s로 제한\)/)
  t.notMatch(describeSide(primary as unknown as Parameters<typeof describeSide>[0]), /limited/, 'no limit: nothing said')
})
