// Issue 18, What 8: the rest of the CLI's human output in Korean and English — `mccs setup` (its prompts after
// the language question, its result, refusals, usage) and `mccs node add`'s usage, `mccs config validate`'s
// summary under the first line, `mccs explain`'s placement rules, summary and entry kinds, `mccs mirror`
// status/verify/usage, `mccs license keygen|issue`. Each command's Korean output is asserted line by line
// (a key missing in ko would print the English line and fail here; test/i18n/consistency.test.ts fails on
// the key itself), its English output too, and --json is the same in both. A timeline entry the agent wrote
// with its words (core/engine/said.ts) reads in Korean too; an error's reason stays English (docs/i18n.md).
import t, { type Test } from 'tap'
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { main } from '../../core/cli/main.js'
import { mirrorCommand } from '../../core/cli/mirror-cmd.js'
import { explainCommand } from '../../core/cli/explain-cmd.js'
import { dictionary } from '../../core/i18n/messages.js'
import { initialState, step, type EngineInput, type EngineState, type Action } from '../../core/engine/index.js'
import type { MainConfig } from '../../core/engine/model.js'
import { Timeline, TIMELINE_FILE } from '../../core/log/timeline.js'
import type { Bootstrap } from '../../core/config/bootstrap.js'
import { packageRoot } from '../../core/paths.js'

t.setTimeout(180_000)
delete process.env.MCCS_LANG // the language comes from the flags and the setup record below, not the caller's shell

async function home(t: Test): Promise<string> {
  const h = await mkdtemp(path.join(os.tmpdir(), 'mccs-lang-'))
  t.teardown(() => rm(h, { recursive: true, force: true }))
  return h
}

/** mccs with MCCS_HOME=h in this process (main()), its output captured. */
async function mccs(h: string, argv: string[]): Promise<{ code: number; out: string; err: string }> {
  const saved = { home: process.env.MCCS_HOME, name: process.env.MCCS_NODE_NAME }
  process.env.MCCS_HOME = h
  delete process.env.MCCS_NODE_NAME
  let out = ''
  let err = ''
  try {
    const code = await main(argv, { out: (s) => void (out += s + '\n'), err: (s) => void (err += s + '\n') })
    return { code, out, err }
  } finally {
    if (saved.home === undefined) delete process.env.MCCS_HOME
    else process.env.MCCS_HOME = saved.home
    if (saved.name !== undefined) process.env.MCCS_NODE_NAME = saved.name
  }
}

t.test('mccs setup speaks the language it sets up, Korean by default; config validate then speaks it', async (t) => {
  const ko = await home(t)
  const r = await mccs(ko, ['setup', '--name', 'alpha', '--cluster', 'c1', '--link', 'l0=127.0.0.1'])
  t.equal(r.code, 0, r.err)
  const lines = r.out.trimEnd().split('\n')
  t.equal(lines[0], '노드 alpha 설정 완료: 클러스터 c1, 클러스터 (mccs node add <이름>으로 노드 추가), 언어 ko', 'no --lang: Korean')
  t.match(lines[1], /^ {2}작성한 파일: \S+/)
  t.equal(lines[2], '  아직 라이선스 없음: mccs license install <파일> 전까지 제한 모드 (자동 페일오버와 자동 시작 없음)')
  t.equal(lines[3], '다음: systemctl start mccs_agent   (또는 그 ExecStart 실행), 그다음 mccs status')

  const again = await mccs(ko, ['setup', '--name', 'alpha', '--cluster', 'c1', '--link', 'l0=127.0.0.1'])
  t.equal(again.code, 3)
  t.match(again.err, /^mccs setup: 거부됨, 아무것도 바꾸지 않았습니다: .*already set up/, "a refusal's frame in the recorded language")
  const usage = await mccs(ko, ['setup', '--bogus'])
  t.equal(usage.code, 2)
  t.match(usage.err, /\n사용법: mccs setup .*\n[\s\S]*--lang {6}MCCS의 언어/)

  // config validate in the product language: the summary under the first line too.
  const v = await mccs(ko, ['config', 'validate'])
  t.equal(v.code, 0, v.err)
  const vl = v.out.trimEnd().split('\n')
  t.match(vl[0], /^유효함: \S+hb\.json, \S+main\.json$/)
  t.equal(vl[1], '  main.json 세대 1: 그룹 0개, 리소스 0개, 의존 관계 0개')
  t.equal(vl[2], '  hb.json 세대 1: 클러스터 c1, 노드 1개, 링크 1개')
  const en = await mccs(ko, ['config', 'validate', '--lang', 'en'])
  t.same(en.out.trimEnd().split('\n').slice(1), [
    '  main.json generation 1: 0 groups, 0 resources, 0 dependencies',
    '  hb.json generation 1: cluster c1, 1 nodes, 1 links',
  ])
  t.match(en.out, /^valid: /)
  const [jk, je] = [await mccs(ko, ['config', 'validate', '--json']), await mccs(ko, ['config', 'validate', '--json', '--lang', 'en'])]
  t.same(JSON.parse(jk.out), JSON.parse(je.out), '--json is the same in both')
  t.match(JSON.parse(jk.out), { summary: { main: { generation: 1, groups: 0 }, hb: { cluster: 'c1', nodes: 1 } } })

  const enHome = await home(t)
  const e = await mccs(enHome, ['setup', '--name', 'alpha', '--link', 'l0=127.0.0.1', '--lang', 'en', '--mode', 'single'])
  t.match(e.out, /^node alpha set up: cluster mccs, single-node cluster, language en\n {2}wrote /)
  t.match(e.out, /\nnext: systemctl start mccs_agent {3}\(or run its ExecStart\), then mccs status\n$/)
  const bad = await mccs(enHome, ['setup', '--name', 'beta', '--link', 'l0=127.0.0.1'])
  t.match(bad.err, /^mccs setup: refused, nothing changed: /, 'a node set up in English refuses in English')
  const na = await mccs(enHome, ['node', 'add', '--lang', 'ko'])
  t.equal(na.code, 2)
  t.equal(na.err.trim(), '사용법: mccs node add <이름> [--timeout S]   (새 호스트의 mccs setup --join에 쓸 일회용 토큰을 출력하고 기다림)')
  const nt = await mccs(enHome, ['node', 'add', 'n2', '--timeout', '0', '--lang', 'ko'])
  t.equal(nt.err.trim(), 'mccs node add: --timeout은 0보다 큰 초 단위 숫자여야 합니다 (최대 86400)')
})

t.test('mccs cluster key; uninstall, support, log-level, group and explain usage', async (t) => {
  const h = await home(t)
  await mkdir(path.join(h, 'config'), { recursive: true })
  const c = await mccs(h, ['cluster', 'key', 'create', '--lang', 'ko'])
  t.equal(c.code, 0, c.err)
  const file = path.join(h, 'config', 'cluster.key')
  t.equal(c.out.trim(), `${file}을(를) 만들었습니다 (256비트, 모드 0600): 클러스터의 모든 노드의 ${path.join(h, 'config')}/에 복사하세요`)
  t.equal((await mccs(h, ['cluster', 'key', 'check', '--lang', 'ko'])).out.trim(), `${file}: 올바른 256비트 키, 모드 0600`)
  t.equal((await mccs(h, ['cluster', 'key', 'check'])).out.trim(), `${file}: a valid 256-bit key, mode 0600`, 'English when never set up')
  t.equal(
    (await mccs(h, ['cluster', 'nope', '--lang', 'ko'])).err.trim(),
    '사용법: mccs cluster key create [--force] | mccs cluster key check',
  )
  const u = await mccs(h, ['uninstall', 'now', '--lang', 'ko'])
  t.equal(u.code, 2)
  t.equal(
    u.err.trim(),
    'mccs uninstall: unexpected now\n사용법: mccs uninstall [--purge]   (--purge가 없으면 config/, script/, logs/, plugins/, state/와 라이선스는 남김)',
  )
  const s = await mccs(h, ['support', 'nope', '--lang', 'ko'])
  t.equal(s.code, 2)
  t.equal(s.err.trim(), '사용법: mccs support [--out 파일] [--json] | mccs support list [--json]')
  const ll = await mccs(h, ['log-level', 'a', 'b', '--lang', 'ko'])
  t.equal(ll.code, 2)
  t.equal(ll.err.trim(), '사용법: mccs log-level [debug|info|warn|error] [--json]')
  const g = await mccs(h, ['group', 'online', '--lang', 'ko'])
  t.equal(g.code, 2)
  t.match(g.err.trim(), /^사용법: mccs group online .+ \[--node N\] \[--wait \[--timeout S\]\] \[--json\]$/)
  const e = await mccs(h, ['explain', '--lang', 'ko'])
  t.equal(e.code, 2)
  t.equal(e.err.trim(), '사용법: mccs explain <그룹> [--since 30m|2h|<ISO 시각>] [--json]')
})

t.test('interactive setup asks in the language of the first answer', async (t) => {
  const h = await home(t)
  // 한국어; not a join; not single; name; cluster; link name; a wrong address, then a right one; no more links;
  // no license; write it (예).
  const answers = ['ko', '아니요', 'n', 'gamma', 'c3', 'l0', '10.255.254.253', '127.0.0.1', 'n', '', '예'].join('\n')
  const c = spawn(
    process.execPath,
    ['--no-node-snapshot', '--import', 'tsx', path.join(packageRoot(), 'core/cli/main.ts'), 'setup', '--interactive'],
    { env: { ...process.env, MCCS_HOME: h, NODE_OPTIONS: '', MCCS_LANG: '' }, stdio: ['pipe', 'pipe', 'pipe'] },
  )
  let out = ''
  let err = ''
  c.stdout.on('data', (d: Buffer) => void (out += String(d)))
  c.stderr.on('data', (d: Buffer) => void (err += String(d)))
  c.stdin.end(answers + '\n')
  const code = await new Promise<number | null>((r) => c.on('exit', r))
  t.equal(code, 0, err)
  for (const q of [
    'Language / 언어 (ko: 한국어, en: English) [ko]: ',
    '실행 중인 클러스터에 참여합니까 (멤버에서 mccs node add가 토큰을 출력함)? (y/n) [n]: ',
    '단일 노드 클러스터입니까 (MCCS를 이 서버 한 대에서만 실행)? (y/n) [n]: ',
    '클러스터 이름 [mccs]: ',
    '하트비트 링크 1: 이름 [link1]: ',
    '  l0에서 이 노드의 주소',
    '하트비트 링크를 더 추가합니까? (y/n) [n]: ',
    '라이선스 파일 (비우면 나중에 설치; 그때까지 제한 모드) []: ',
    '\n클러스터 c3의 노드 gamma (cluster), 언어 ko, 링크 l0=127.0.0.1, 라이선스는 나중에\n',
    '이 구성을 저장합니까? (y/n) [y]: ',
    '노드 gamma 설정 완료: 클러스터 c3,',
  ])
    t.ok(out.includes(q), `asked/said: ${JSON.stringify(q)}`)
  t.notMatch(out, /Join a running|Cluster name|Heartbeat link|Write this/, 'no English prompt after the language answer')
  t.match(err, /10\.255\.254\.253 is not an address of this host/, 'a wrong address is refused (its reason in English) and asked again')
  t.match(JSON.parse(await readFile(path.join(h, 'config/setup.json'), 'utf8')), { language: 'ko' })
})

t.test('mccs license keygen and issue', async (t) => {
  const h = await home(t)
  const key = path.join(h, 'op.key')
  const k = await mccs(h, ['license', 'keygen', '--out', key, '--lang', 'ko'])
  t.equal(k.code, 0, k.err)
  t.equal(k.out.trim(), `개인 키 ${key} (클러스터 밖에 보관하세요), 공개 키 ${key}.pub`)
  const out = path.join(h, 'n1.lic')
  const i = await mccs(h, ['license', 'issue', '--key', key, '--node', 'n1', '--out', out, '--lang', 'ko'])
  t.equal(i.code, 0, i.err)
  t.equal(i.err.trim(), `n1의 라이선스를 ${out}에 썼습니다`)
  const key2 = path.join(h, 'op2.key')
  const ke = await mccs(h, ['license', 'keygen', '--out', key2, '--trust'])
  t.equal(ke.out.split('\n')[0], `private key ${key2} (keep it off the cluster), public key ${key2}.pub`, 'a host never set up: English')
  t.match(ke.out.split('\n')[1], /^this node now trusts licenses signed with it \(.+license-keys\.pem\)$/)
  const u = await mccs(h, ['license', 'nope', '--lang', 'ko'])
  t.equal(u.code, 2)
  t.match(u.err, /^사용법: mccs license show \[--json\]\n {7}mccs license install <파일>/)
})

// ---- mccs mirror: against a control socket answering as the agent does (as test/mirror/mirror-cmd.test.ts).
const primary = {
  resource: 'md0',
  node: 'n1',
  role: 'primary',
  generation: { current: 'AAAA' },
  peerRecord: null,
  attached: { device: '/dev/loop3', ok: false },
  dirtyBytes: 10485760,
  splitBrain: {
    local: { node: 'n1', generation: 'AAAA', dirtyBytes: 1048576 },
    peer: { node: 'n2', generation: 'CCCC', dirtyBytes: 2097152 },
  },
  replication: {
    state: 'SyncSource',
    percent: 40,
    resync: { mode: 'partial', bytes: 10485760, done: 4194304, rateBps: 2097152, etaS: 3 },
  },
}

function fakeAgent(t: Test, answer: (p: Record<string, unknown>) => unknown): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mlang-'))
  const sock = path.join(dir, 'c.sock')
  const srv = net
    .createServer((c) => {
      let buf = ''
      c.on('data', (d) => {
        buf += d
        if (!buf.includes('\n')) return
        const req = JSON.parse(buf) as { id: number; params: Record<string, unknown> }
        c.end(JSON.stringify({ id: req.id, ok: true, result: answer(req.params) }) + '\n')
      })
    })
    .listen(sock)
  t.teardown(() => {
    srv.close()
    fs.rmSync(dir, { recursive: true, force: true })
  })
  return sock
}

t.test('mccs mirror status, verify, usage', async (t) => {
  let verifyEqual = true
  const sock = fakeAgent(t, (p) =>
    p.op === 'status'
      ? [{ resource: 'md0', local: primary, peer: { error: 'no answer' } }]
      : verifyEqual
        ? { resource: 'md0', chunk: 1 << 20, chunks: 1024, ms: 5, equal: true, differing: [] }
        : { resource: 'md0', equal: false, sizes: { local: 10, peer: 12 }, differing: [{ offset: 0, length: 1048576 }] },
  )
  const run = async (args: string[], locale: 'ko' | 'en', extra: { force?: boolean; json?: boolean } = {}) => {
    const out: string[] = []
    const err: string[] = []
    const code = await mirrorCommand(
      args,
      { socket: sock, json: extra.json ?? false, force: extra.force ?? false, locale },
      { out: (s) => out.push(s), err: (s) => err.push(s) },
    )
    return { code, out: out.join('\n'), err: err.join('\n') }
  }
  const ko = await run(['status'], 'ko')
  t.equal(
    ko.out,
    'md0\n' +
      '  n1: primary, 디스크 UpToDate, SyncSource 40 % (partial, 10.0 MiB 중 4.0 MiB, 2.0 MiB/s, 남은 시간 3초), 세대 AAAA, 미동기 10.0 MiB, ' +
      '연결된 장치 /dev/loop3 (고장), 스플릿 브레인: n1 세대 AAAA (혼자 쓴 1.0 MiB) 대 n2 세대 CCCC (2.0 MiB): mccs mirror resolve md0 --discard <노드>\n' +
      '  연결할 수 없음 (no answer)',
  )
  const en = await run(['status'], 'en')
  t.equal(
    en.out,
    'md0\n' +
      '  n1: primary, disk UpToDate, SyncSource 40 % (partial, 4.0 MiB of 10.0 MiB, 2.0 MiB/s, ETA 3 s), generation AAAA, dirty 10.0 MiB, ' +
      'attached /dev/loop3 (broken), SPLIT BRAIN: n1 generation AAAA (1.0 MiB written alone) vs n2 generation CCCC (2.0 MiB): mccs mirror resolve md0 --discard <node>\n' +
      '  unreachable (no answer)',
    'English as before',
  )
  t.same(JSON.parse((await run(['status'], 'ko', { json: true })).out), JSON.parse((await run(['status'], 'en', { json: true })).out))
  t.equal((await run(['verify', 'md0'], 'ko')).out, 'md0: 두 사본이 같습니다 (1.0 MiB 청크 1024개, 5 ms)')
  verifyEqual = false
  const differ = await run(['verify', 'md0'], 'ko')
  t.equal(differ.code, 1)
  t.equal(differ.out, 'md0: 사본이 다릅니다 (크기: 여기 10, 상대 12)\n  오프셋 0 길이 1048576')
  t.equal((await run(['verify', 'md0'], 'en')).out, 'md0: copies DIFFER (sizes 10 here, 12 on the peer)\n  offset 0 length 1048576')
  const noDiscard = await run(['resolve', 'md0'], 'ko')
  t.equal(noDiscard.code, 2)
  t.equal(noDiscard.err, 'mccs mirror resolve: --discard <노드>가 필요합니다 (데이터를 바꿀 노드)')
  t.match((await run(['bogus'], 'ko')).err, /^사용법: mccs mirror status \[<리소스>\] \[--json\]\n/)
})

t.test("mccs mirror resync, resolve, primary: a line in the language; --json the agent's answer", async (t) => {
  const answers: Record<string, unknown> = {
    resync: { node: 'n1', started: true },
    resolve: { resource: 'md0', discarded: { node: 'n2', side: 'discard' }, kept: { node: 'n1', side: 'keep' } },
    primary: { node: 'n2', until: '2026-12-07T10:05:00.000Z', note: 'now bring …' },
  }
  const sock = fakeAgent(t, (p) => answers[p.op as string])
  const run = async (args: string[], locale: 'ko' | 'en', json = false) => {
    const out: string[] = []
    const code = await mirrorCommand(
      args,
      { socket: sock, json, force: args[0] === 'primary', ...(args[0] === 'resolve' ? { discard: 'n2' } : {}), locale },
      { out: (s) => out.push(s), err: (s) => out.push('ERR ' + s) },
    )
    t.equal(code, 0)
    return out.join('\n')
  }
  t.equal(await run(['resync', 'md0'], 'ko'), 'md0 전체 재동기화를 노드 n1에서 시작했습니다: 상대 노드가 볼륨 전체를 다시 받습니다')
  t.equal(await run(['resync', 'md0'], 'en'), 'full resync of md0 started on n1: the peer gets the whole volume again')
  t.match(
    await run(['resolve', 'md0'], 'ko'),
    /^md0의 스플릿 브레인을 해결했습니다: 노드 n2의 데이터는 버리고 노드 n1의 데이터는 유지합니다/,
  )
  t.match(await run(['resolve', 'md0'], 'en'), /^split brain of md0 resolved: n2's data is discarded, n1's is kept/)
  const ko = await run(['primary', 'md0'], 'ko')
  t.match(ko, /^노드 n2에서 2026\. 12\. 07\. \d\d:05:00까지 md0의 강제 승격을 허용합니다: /, 'the time in the one format, in Korean')
  t.match(await run(['primary', 'md0'], 'en'), /^a forced promotion of md0 is allowed on n2 until 2026-12-07 \d\d:05:00: now bring/)
  for (const op of ['resync', 'resolve', 'primary'])
    t.same(JSON.parse(await run([op, 'md0'], 'ko', true)), answers[op], `${op} --json: the agent's answer, whatever the language`)
})

// ---- mccs explain: the real engine's failover after a node loss, told from the timeline (as test/timeline).
const config: MainConfig = {
  generation: 1,
  groups: [{ name: 'web', nodes: ['n1', 'n2', 'n3'], failoverOnFailure: true, autoStart: false, autoFailback: false }],
  resources: [{ name: 'ip', type: 'ip', group: 'web', critical: true, attrs: {}, nodeAttrs: {}, policy: {}, monitored: true }],
  dependencies: [],
  types: {},
}
const input: EngineInput = { config, types: { ip: { monitorIntervalS: 5, offlineMonitorIntervalS: 50 } }, nodes: ['n1', 'n2', 'n3'] }

function drive(tl: Timeline, state: EngineState, ev: Parameters<typeof step>[2]): EngineState {
  let r = step(input, state, ev, 0)
  tl.step(ev, r)
  const queue: Action[] = [...r.plan.actions]
  while (queue.length) {
    const a = queue.shift()!
    if (a.kind === 'cancel') continue
    const e = {
      type: 'actionResult' as const,
      actionId: a.id,
      status: 'done' as const,
      answer: a.kind === 'probe' ? ('notRunning' as const) : ('ok' as const),
      recoverable: true,
    }
    r = step(input, r.state, e, 0)
    tl.step(e, r)
    queue.push(...r.plan.actions)
  }
  return r.state
}

t.test('mccs explain: placement rules, summary and entry kinds in Korean; --json the same in both', async (t) => {
  const dir = await home(t)
  const b = {
    home: dir,
    configDir: path.join(dir, 'config'),
    logDir: path.join(dir, 'logs'),
    stateDir: path.join(dir, 'state'),
    nodeName: 'n2',
  } as Bootstrap
  await mkdir(b.configDir, { recursive: true })
  await mkdir(b.logDir, { recursive: true })
  await writeFile(path.join(b.configDir, 'main.json'), JSON.stringify(config))
  const tl = new Timeline(path.join(b.logDir, TIMELINE_FILE), 'n2')
  let st = initialState(input)
  st = drive(tl, st, { type: 'start' })
  st = drive(tl, st, { type: 'groupOnline', group: 'web', node: 'n1', user: 'ops' })
  tl.view({ coordinator: 'n2', partition: ['n2', 'n3'], quorate: true, reason: 'majority' })
  st = drive(tl, st, { type: 'nodeChange', node: 'n1', membership: 'down' })
  t.equal(st.groups.web!.activeNode, 'n2', 'the engine failed over to n2')
  await tl.close()
  const explain = async (...args: string[]) => {
    const out: string[] = []
    t.equal(await explainCommand(['web', ...args], { out: (s) => out.push(s), err: (s) => out.push('ERR ' + s) }, b, async () => null), 0)
    return out.join('\n')
  }
  const ko = await explain('--lang', 'ko')
  t.match(ko, /^web — 타임라인 \(/m, "the frame (h18's keys)")
  t.match(
    ko,
    /\[n2\] 알림 유실된 노드 n1에서 페일오버 → 배치 규칙: web의 순서\(n1, n2, n3\)에서 n1을\(를\) 빼고 처음 쓸 수 있는 노드는 n2\n/,
    "an entry's kind, what the agent recorded (its words) and its rule in Korean",
  )
  t.match(ko, /\[n2\] 입력 운영자 ops: groupOnline web \(노드 n1\)/)
  t.match(ko, /\[n2\] 결정 노드 n2에서 ip 온라인: 온라인이어야 함/)
  t.match(ko, /\[n2\] 알림 노드 n1 펜싱됨\n/)
  t.match(
    ko,
    /\[n2\] 뷰 {3}뷰: n2, n3; 코디네이터 n2; 쿼럼 있음 \(majority\)/,
    'the column as wide on a terminal (Hangul takes two columns)',
  )
  t.match(ko, /\n왜 여기 있는가: web은\(는\) \S+에 n2에서 온라인이 되었습니다 \(.+\)\.\n/)
  t.match(
    ko,
    /\n왜 옮겨졌는가: 유실된 노드 n1에서 페일오버\.\n {2}n1 유실: 노드 n1 유실\(뷰에서 빠짐\) \(.+, n2에서 봄\)\.\n {2}그룹이 옮겨지기 전에 n1이\(가\) 펜싱됨: 노드 n1 펜싱: 완료\/정상/,
  )
  t.match(ko, /\n {2}배치 규칙: web의 순서\(n1, n2, n3\)에서 n1을\(를\) 빼고 처음 쓸 수 있는 노드는 n2\.$/)
  t.notMatch(ko, /Why |placement rule|seen by|fenced before|away from/, 'no English frame left')
  t.notMatch(ko, /failover from|operator ops|learn the state|wanted online|done\/ok|lost \(left/, "no English left in the agent's records")
  const en = await explain('--lang', 'en')
  t.match(
    en,
    /\[n2\] notice {3}failover from lost node n1 → placement rule: the first usable node of web's order \(n1, n2, n3\) other than n1 is n2\n/,
  )
  t.match(en, /\nWhy did it move: failover from lost node n1\.\n {2}n1 was lost: node n1 lost .*, seen by n2\)\./)
  t.same(
    JSON.parse(await explain('--json', '--lang', 'ko')),
    JSON.parse(await explain('--json', '--lang', 'en')),
    '--json is the same in both',
  )
})

t.test('mccs simulate, node usage, quorum-server add|remove-cluster, license-server keygen in Korean and English', async (t) => {
  const h = await home(t)
  const scenario = path.join(packageRoot(), 'test/scenarios/fence-withdrawn-when-node-returns/scenario.json')
  const sk = await mccs(h, ['simulate', scenario, '--lang', 'ko'])
  t.equal(sk.code, 0, sk.err)
  t.match(
    sk.out.trimEnd().split('\n').at(-1),
    /^(안정됨\(quiescent\)|안정되지 않음\(NOT quiescent\))\. 끝에 실행 중: /,
    'simulate: the last line',
  )
  const se = await mccs(h, ['simulate', scenario, '--lang', 'en'])
  t.match(se.out.trimEnd().split('\n').at(-1), /^(quiescent|NOT quiescent); running at the end: /)
  t.equal(sk.out.split('\n').length, se.out.split('\n').length, 'the same lines')
  const su = await mccs(h, ['simulate', '--lang', 'ko'])
  t.equal(su.code, 2)
  t.match(su.err, /^사용법: mccs simulate <시나리오\.json>/)

  const nu = await mccs(h, ['node', 'frobnicate', '--lang', 'ko'])
  t.equal(nu.code, 2)
  t.match(nu.err, /^사용법: mccs node standby\|unstandby\|maintenance\|unmaintenance \[<노드>\]/)
  t.match((await mccs(h, ['node', 'frobnicate', '--lang', 'en'])).err, /^usage: mccs node standby/)

  const qdir = path.join(h, 'quorum')
  const qa = await mccs(h, ['quorum-server', 'add-cluster', 'c1', '--dir', qdir, '--lang', 'ko'])
  t.equal(qa.code, 0, qa.err)
  const qlines = qa.out.trimEnd().split('\n')
  t.equal(qlines[0], '클러스터 c1을(를) 추가했습니다. 클러스터의 모든 노드에 다음을 주십시오:')
  t.match(qlines[1], /^ {2}쿼럼 키 {6}\S+/)
  t.match(qlines[2], /^ {2}CA 파일 {6}\S+ca\.crt$/)
  t.match(qlines[3], /^ {2}CA SHA-256 {3}[0-9A-Fa-f:]+$/)
  const qr = await mccs(h, ['quorum-server', 'remove-cluster', 'c1', '--dir', qdir, '--lang', 'en'])
  t.equal(qr.out.trim(), 'cluster c1 removed (its nodes can no longer log in)')
  const qbad = await mccs(h, ['quorum-server', 'status', '--dir', qdir, '--lang', 'fr'])
  t.equal(qbad.code, 2, 'an unknown --lang refused')
  t.match(qbad.err, /'fr' is not a language MCCS offers/)

  const key = path.join(h, 'ls.key')
  const lk = await mccs(h, ['license-server', 'keygen', '--out', key, '--lang', 'ko'])
  t.equal(lk.code, 0, lk.err)
  t.equal(lk.out.trim(), `라이선스 서버 키를 ${key}에 썼습니다 (모드 0600). 모든 노드에 config/license-server.key(으)로 복사하십시오`)
  t.equal((fs.statSync(key).mode & 0o777).toString(8), '600')
})

t.test('every key of these commands is translated: in both locales, and the Korean is not the English', async (t) => {
  const [en, ko] = [dictionary('en'), dictionary('ko')]
  const prefixes = [
    'cli.setup.',
    'cli.nodeAdd.',
    'cli.mirror.',
    'cli.explain.',
    'cli.license.',
    'cli.config.',
    'cli.cluster.',
    'cli.uninstall.',
    'cli.agent.',
    'cli.demo.',
    'cli.ec2sim.',
    'cli.edit.',
    'cli.licenseServer.',
    'cli.quorum.',
    'cli.simulate.',
  ]
  const keys = Object.keys(en).filter((k) => prefixes.some((p) => k.startsWith(p)))
  t.ok(keys.length > 80, `${keys.length} keys`)
  // The same in both where there is nothing to translate: a command line with its parameters.
  const same = new Set(['cli.mirror.refused'])
  const untranslated = keys.filter((k) => !Object.hasOwn(ko, k) || (ko[k] === en[k] && !same.has(k)))
  t.same(untranslated, [])
  const english = keys.filter((k) => !same.has(k) && !/[\uac00-\ud7a3]/.test(ko[k] ?? ''))
  t.same(english, [], 'every Korean text has Hangul')
})

t.test("mccs demo's walk-through of the console in Korean; the English one as a newcomer copies from it", async (t) => {
  const { tryInConsole } = await import('../../core/cli/demo.js')
  const ko = tryInConsole(true, ['eth0', 'eth1'], true, 'ko').split('\n')
  t.equal(ko[0], '콘솔에서 해 보십시오: 가상 IP, 프로세스, AWS 유형이 있는 리소스 그룹을 만들어 다른 노드로 옮깁니다.')
  t.equal(ko[3], '    nic      네트워크 어댑터: demo1은 eth0, demo2는 eth1')
  t.equal(ko[5], '    address  같은 카드에 10.0.1.50/32 (aws-sip에 의존)')
  t.equal(ko[8], '               -e', 'the command is the same in every language')
  t.notMatch(ko.join('\n'), /Try it|Network adapter|depends on|Then select/, 'no English left')
  const en = tryInConsole(true, ['eth0', 'eth1'], true, 'en').split('\n')
  t.equal(en[3], '    nic      Network adapter: eth0 for demo1, eth1 for demo2')
  t.equal(
    en[4],
    "    aws-sip  10.0.1.50 in the demo's EC2 subnet 10.0.1.0/24; ENI eni-demo1 for demo1, eni-demo2 for demo2 (depends on nic)",
  )
  t.equal(en.length, ko.length, 'the same lines')
})
