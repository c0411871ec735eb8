// Issue 18, What 8: more of the CLI's human output in Korean — `mccs node standby|unstandby|maintenance|
// unmaintenance`, `mccs log-level`, `mccs hb show`, `mccs license show`, `mccs support list`, `mccs metrics
// token show`, `mccs config validate`, `mccs aws policy`, `mccs explain` (its frame; its rules, summary and kinds in test/cli/lang-output.test.ts) and `mccs plugin list|info` (the
// plugin's own name and field titles from its locale file) — against a real agent, with --lang ko; the English output is today's, word for word; --json is
// the same in both languages.
import t from 'tap'
import { startTestAgent } from '../agent/helpers.js'

t.test('node, log-level and plugin in Korean and English', async (t) => {
  const ta = await startTestAgent({ groups: [], resources: [], dependencies: [], types: {} })
  t.teardown(() => ta.cleanup())
  const both = async (...args: string[]) => ({ en: await ta.cli(...args), ko: await ta.cli(...args, '--lang', 'ko') })

  const standby = await both('node', 'standby')
  t.equal(standby.en.code, 0, standby.en.err)
  t.equal(standby.en.out.trim(), 'n1: in standby; no group ran there')
  await ta.cli('node', 'unstandby')
  t.equal(standby.ko.code, 0, standby.ko.err)
  t.equal(standby.ko.out.trim(), 'n1: 대기(standby) 상태; 이 노드에서 실행 중인 그룹 없음')
  const unstandby = await ta.cli('node', 'unstandby', '--lang', 'ko')
  t.equal(unstandby.out.trim(), 'n1: 대기(standby) 해제; 그룹이 다시 이 노드에서 시작될 수 있습니다')
  const badTimeout = await ta.cli('node', 'standby', '--timeout', '0', '--lang', 'ko')
  t.equal(badTimeout.code, 2)
  t.equal(badTimeout.err.trim(), 'mccs node: --timeout은 0보다 큰 초 단위 숫자여야 합니다')

  const maint = await ta.cli('node', 'maintenance', '--lang', 'ko')
  t.equal(maint.code, 0, maint.err)
  t.match(maint.out, /^n1: 유지보수 모드; 실행 중인 것은 그대로 둡니다/)
  const unmaint = await ta.cli('node', 'unmaintenance')
  t.equal(unmaint.out.trim(), 'n1: out of maintenance; its resources are probed and managed again', 'English as before')
  const rejected = await ta.cli('node', 'unmaintenance', 'n9', '--lang', 'ko')
  t.equal(rejected.code, 3)
  t.match(rejected.err, /^거부됨: .+ \(MCCS_ERR_[A-Z_]+\)/, 'a refusal in Korean, with the code')

  const level = await both('log-level')
  t.equal(level.en.out.trim(), 'n1: log level info (one of debug, info, warn, error)')
  t.equal(level.ko.out.trim(), 'n1: 로그 레벨 info (debug, info, warn, error 중 하나)')
  const set = await ta.cli('log-level', 'debug', '--lang', 'ko')
  t.equal(set.out.trim(), 'n1: 로그 레벨 debug (이전 info); 재시작 후에도 유지됩니다')
  const json = await both('log-level', '--json')
  t.same(JSON.parse(json.ko.out), JSON.parse(json.en.out), '--json is the same in both')

  const hb = await both('hb', 'show')
  t.match(hb.en.out, /^hb\.json generation \d+, cluster test, timing \d+ \/ \d+ ms\nlinks: \S+ \(priority \d+\)/)
  t.match(hb.ko.out, /^hb\.json 세대 \d+, 클러스터 test, 타이밍 \d+ \/ \d+ ms\n링크: \S+ \(우선순위 \d+\)/)
  const hbBad = await ta.cli('hb', 'set-timing', '--interval-ms', '100', '--dead-ms', '150', '--lang', 'ko')
  t.equal(hbBad.code, 2, 'a change takes --lang too, and is still checked')

  const lic = await both('license', 'show')
  t.equal(lic.en.code, 0, lic.en.err)
  t.match(lic.en.out, /^node n1: licensed\n {2}type \S+ {2}host id \S+ {2}expires /)
  t.match(lic.ko.out, /^노드 n1: 라이선스 있음\n {2}종류 \S+ {2}호스트 ID \S+ {2}만료 /)
  const licJson = await both('license', 'show', '--json')
  t.same(JSON.parse(licJson.ko.out), JSON.parse(licJson.en.out))

  const support = await both('support', 'list')
  t.equal(support.en.out.trim(), 'no support bundles kept on this node')
  t.equal(support.ko.out.trim(), '이 노드에 보관된 지원 파일이 없습니다')
  const metrics = await both('metrics', 'token', 'show')
  t.equal(metrics.en.out.trim(), 'no metrics token on n1: /metrics refuses every scrape (mccs metrics token create)')
  t.equal(metrics.ko.out.trim(), 'n1에 메트릭 토큰이 없습니다: /metrics는 모든 수집을 거부합니다 (mccs metrics token create)')
  const valid = await both('config', 'validate')
  t.equal(valid.en.code, 0, valid.en.err)
  t.match(valid.en.out, /^valid: \S+\.json/)
  t.match(valid.ko.out, /^유효함: \S+\.json/, 'the first line (the summary under it, from core/config, is still English)')

  const aws = await both('aws', 'policy')
  t.equal(aws.en.out.trim(), 'no configured resource or fence device uses EC2: no policy needed')
  t.equal(aws.ko.out.trim(), 'EC2를 쓰는 리소스나 펜스 장치가 구성되어 있지 않습니다: 정책이 필요 없습니다')

  const explain = await both('explain', 'nope')
  t.equal(explain.en.code, 3)
  t.equal(explain.en.err.trim(), "mccs explain: group: no group named 'nope' in the configuration")
  t.equal(explain.ko.err.trim(), "mccs explain: group: 구성에 'nope' 그룹이 없습니다")
  const since = await ta.cli('explain', 'nope', '--since', 'soon', '--lang', 'ko')
  t.equal(since.code, 2)
  t.match(since.err, /'soon'은\(는\) 경과 시간/)

  const list = await both('plugin', 'list')
  t.match(list.en.out, /^TYPE\s+VERSION\s+KIND\s+NAME\s+PERMISSIONS/)
  t.match(list.en.out, /\nprocess\s+\S+\s+resource\s+Process\s/, "the manifest's name in English")
  t.match(list.ko.out, /^타입\s+버전\s+종류\s+이름\s+권한/, 'the headers in Korean')
  t.match(list.ko.out, /\nprocess\s+\S+\s+resource\s+프로세스\s/, "the plugin's Korean name from its locale file")
  const info = await both('plugin', 'info', 'aws-eip')
  t.match(info.en.out, /^AWS Elastic IP \(aws-eip\) [\d.]+, resource plugin, needs MCCS plugin API/)
  t.match(info.en.out, /\nattributes:\nNAME\s+TYPE\s+REQUIRED\s+SCOPE\s+TITLE\n/)
  t.match(info.ko.out, /^AWS 탄력적 IP \(aws-eip\) [\d.]+, resource 플러그인, MCCS 플러그인 API .+ 필요/)
  t.match(info.ko.out, /\n속성:\n이름\s+타입\s+필수\s+범위\s+제목\n/)
  t.match(info.ko.out, /\nallocationId\s+string\s+예\s+global\s+탄력적 IP\n/, 'field titles from the locale file')
  const none = await ta.cli('plugin', 'info', 'nope', '--lang', 'ko')
  t.equal(none.code, 1)
  t.equal(none.err.trim(), "mccs plugin info: 로드된 리소스 타입 'nope'이(가) 없습니다 (mccs plugin list 참조)")
})
