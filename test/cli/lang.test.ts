// Issue 18, What 8: the CLI's human output in the product language or the one asked for. `mccs status`
// against a real agent prints Korean with MCCS_LANG=ko (or --lang ko, or when setup chose Korean) and
// today's English otherwise; --json is the same in both; an error leads with the catalogue's title in
// Korean and keeps the code and the reason; an unknown language is refused, naming where it came from.
import t from 'tap'
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { packageRoot } from '../../core/paths.js'
import { renderStatus } from '../../core/cli/status-cmd.js'
import { table, displayWidth } from '../../core/cli/table.js'
import { startConsoleCluster } from '../console/browser.js'
import type { AgentStatus } from '../../core/agent/status.js'

const bin = path.join(packageRoot(), 'bin/mccs')
function mccs(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; out: string; err: string }> {
  const e = { ...env }
  delete e.NODE_OPTIONS
  return new Promise((resolve) =>
    execFile(bin, args, { env: e, timeout: 30_000 }, (err, out, errOut) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out, err: errOut }),
    ),
  )
}

const status = {
  cluster: 'c1',
  node: 'n1',
  generation: 3,
  uptimeS: 12,
  nodes: [
    { name: 'n1', membership: 'up', needsFence: false },
    { name: 'n2', membership: 'lost', needsFence: true },
  ],
  groups: [
    {
      name: 'web',
      nodes: { n1: 'online', n2: 'faulted' },
      activeNode: 'n1',
      lock: 'none',
      failoverOnFailure: true,
      busy: 0,
      resources: [
        {
          name: 'app',
          type: 'process',
          critical: true,
          nodes: { n1: { state: 'online', monitored: true, restarts: 0 }, n2: { state: 'faulted', monitored: true, fault: 'exit 1' } },
        },
      ],
    },
  ],
} as unknown as AgentStatus

t.test('renderStatus: English exactly as before, Korean with the same facts', async (t) => {
  const en = renderStatus(status).split('\n')
  t.same(renderStatus(status, 'en'), renderStatus(status), 'en is the default')
  t.equal(en[0], 'cluster c1  node n1  config generation 3  up 12s')
  t.equal(en[1], 'nodes: n1 up, n2 lost (needs fencing)')
  t.equal(en[3], 'group web  n1:online n2:faulted  active on n1')
  t.equal(en[4], '  RESOURCE  TYPE     N1      N2       FAULT')
  t.equal(en[5], '  app       process  online  faulted  n2: exit 1')
  const ko = renderStatus(status, 'ko').split('\n')
  t.equal(ko[0], '클러스터 c1  노드 n1  구성 세대 3  가동 12초')
  t.equal(ko[1], '노드: n1 정상, n2 유실 (펜싱 필요)')
  t.equal(ko[3], '그룹 web  n1:온라인 n2:장애  n1에서 활성')
  // Columns line up in a terminal: Hangul takes two columns.
  t.equal(displayWidth(ko[4]!.slice(0, ko[4]!.indexOf('타입'))), displayWidth(ko[5]!.slice(0, ko[5]!.indexOf('process'))))
  t.equal(table(['가', 'B'], [['x', 'y']]), '가  B\nx   y')
})

t.test(
  'mccs status and errors through bin/mccs',
  { skip: !existsSync(path.join(packageRoot(), 'dist/mccs.js')) && 'not built' },
  async (t) => {
    const c = await startConsoleCluster({
      main: (nodes) => ({
        generation: 1,
        types: {},
        groups: [{ name: 'web', nodes, failoverOnFailure: true, autoStart: false, autoFailback: false }],
        resources: [{ name: 'marker', type: 'dummy', group: 'web', critical: true, attrs: {}, nodeAttrs: {}, policy: {}, monitored: true }],
        dependencies: [],
      }),
    })
    t.teardown(() => c.stop(t))
    const env = { ...c.nodes[0]!.env }
    delete env.MCCS_LANG

    const en = await mccs(['status'], env)
    t.equal(en.code, 0, en.err)
    t.match(en.out, /^cluster console-test {2}node n1 {2}config generation 1/, 'English without a choice (no setup record)')
    t.match(en.out, /\n {2}RESOURCE {2}TYPE/)

    const ko = await mccs(['status'], { ...env, MCCS_LANG: 'ko' })
    t.equal(ko.code, 0, ko.err)
    t.match(ko.out, /^클러스터 console-test {2}노드 n1 {2}구성 세대 1/, 'MCCS_LANG=ko: Korean')
    t.match(ko.out, /그룹 web/)
    t.match(ko.out, /리소스 {2}타입/)
    t.match(ko.out, /marker\s+dummy\s+오프라인/)

    t.match((await mccs(['status', '--lang', 'ko'], env)).out, /^클러스터 /, '--lang ko')
    t.match((await mccs(['status', '--lang', 'en'], { ...env, MCCS_LANG: 'ko' })).out, /^cluster /, '--lang wins over MCCS_LANG')

    // The product language chosen at setup.
    await writeFile(
      path.join(c.nodes[0]!.home, 'config/setup.json'),
      JSON.stringify({ language: 'ko', mode: 'single', at: new Date().toISOString() }),
    )
    t.match((await mccs(['status'], env)).out, /^클러스터 /, 'setup chose Korean')
    t.match((await mccs(['status'], { ...env, MCCS_LANG: 'en' })).out, /^cluster /, 'MCCS_LANG=en over the product language')

    const j1 = await mccs(['status', '--json'], { ...env, MCCS_LANG: 'en' })
    const j2 = await mccs(['status', '--json'], { ...env, MCCS_LANG: 'ko' })
    const groups = (s: string) => (JSON.parse(s) as { groups: unknown }).groups
    t.same(Object.keys(JSON.parse(j2.out) as object), Object.keys(JSON.parse(j1.out) as object), '--json has the same shape')
    t.same(groups(j2.out), groups(j1.out), '--json: the same words in every language')

    const bad = await mccs(['status'], { ...env, MCCS_LANG: 'fr' })
    t.equal(bad.code, 1)
    t.match(bad.err, /MCCS_ERR_INVALID: MCCS_LANG: 'fr' is not a language MCCS offers: ko or en/, 'refused, naming MCCS_LANG')
  },
)

t.test('an error in Korean leads with the title, keeps the code and the reason; English as before', async (t) => {
  const home = await mkdtemp(path.join(os.tmpdir(), 'mccs-cli-lang-'))
  t.teardown(() => rm(home, { recursive: true, force: true }))
  await mkdir(path.join(home, 'config'), { recursive: true })
  const env: NodeJS.ProcessEnv = { ...process.env, MCCS_HOME: home, MCCS_NODE_NAME: 'n1' }
  delete env.MCCS_LANG
  const en = await mccs(['status'], env)
  t.equal(en.code, 4, 'agent not running')
  t.match(en.err, /^mccs status: the agent is not running \(no control socket at /, 'English: the line as it always was')
  const ko = await mccs(['status'], { ...env, MCCS_LANG: 'ko' })
  t.equal(ko.code, 4)
  t.match(
    ko.err,
    /^mccs status: 제어 소켓에 응답하는 에이전트가 없습니다\(에이전트가 실행 중이 아님\) — the agent is not running \(no control socket at /,
    'Korean title, then the code and the reason',
  )
})

t.test('the usage text in the asked language', async (t) => {
  const { main } = await import('../../core/cli/main.js')
  const run = async (argv: string[]) => {
    const out: string[] = []
    const code = await main(argv, { out: (s) => out.push(s), err: (s) => out.push(s) })
    return { code, text: out.join('\n') }
  }
  const en = await run(['--help', '--lang', 'en'])
  t.equal(en.code, 0)
  t.match(en.text, /^usage: mccs <command> \[options\]\n {2}agent {30}run this node's agent \(foreground\)/)
  t.match(en.text, /\nexit codes: 0 ok, 1 target not reached/)
  const ko = await run(['--help', '--lang', 'ko'])
  t.match(ko.text, /^사용법: mccs <명령> \[옵션\]\n {2}agent {30}이 노드의 에이전트 실행/)
  t.match(ko.text, /\n종료 코드: 0 성공/)
  t.equal(ko.text.split('\n').length, en.text.split('\n').length, 'the same lines in both')
})
