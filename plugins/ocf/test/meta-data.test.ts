// The meta-data reader and the exit-code table on their own: the XML reader refuses to read a DOCTYPE's
// entities, every agent Debian ships parses into a schema, and each OCF code maps as Pacemaker treats it.
import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { execFileSync } from 'node:child_process'
import { parseXml } from '../src/xml.js'
import { parseMetaData, paramsSchema, checkParams, durationS } from '../src/meta-data.js'
import { monitorAnswer, startAnswer, stopAnswer } from '../src/exit-codes.js'
import { parseAgent } from '../src/agent.js'

t.test('XML: entities, CDATA, comments; a DOCTYPE with entity declarations is skipped, never expanded', async (t) => {
  const x = parseXml(`<?xml version="1.0"?>
<!DOCTYPE r [ <!ENTITY xxe SYSTEM "file:///etc/passwd"> <!ENTITY a "aaaaaaaaaa"> <!ENTITY b "&a;&a;&a;&a;"> ]>
<!-- c --><r k='v &amp; &#65;&#x42;'>one &lt;two&gt; &xxe; &b; <![CDATA[<raw>]]><e/><!-- x --></r>`)
  t.equal(x.name, 'r')
  t.equal(x.attrs.k, 'v & AB')
  t.equal(x.text, 'one <two> &xxe; &b; <raw>', 'declared entities stay as written: nothing read from a file, nothing multiplied')
  t.equal(x.children[0]?.name, 'e')
  t.throws(() => parseXml('<a><b></a>'), /<\/a> closes <b>/)
  t.throws(() => parseXml('<a x="1" x="2"/>'), /given twice/)
  t.throws(() => parseXml('<a>'), /not closed/)
  t.throws(() => parseXml(`${'<a>'.repeat(100)}${'</a>'.repeat(100)}`), /deeper than 64/)
  t.throws(() => parseXml('<a/>junk'), /after the root/)
})

t.test('durations as Pacemaker writes them', async (t) => {
  t.same(['20s', '20', '500ms', '2m', '2min', '1h', 'x'].map(durationS), [20, 20, 0.5, 120, 120, 3600, undefined])
})

const SAMPLE = `<?xml version="1.0"?><!DOCTYPE resource-agent SYSTEM "ra-api-1.dtd">
<resource-agent name="S" version="1.1"><version>1.1</version>
<longdesc lang="en">Long.</longdesc><shortdesc lang="en">Sample</shortdesc>
<parameters>
<parameter name="need" required="1"><shortdesc lang="en">Needed</shortdesc><content type="string"/></parameter>
<parameter name="mode"><shortdesc lang="en">Mode</shortdesc><content type="select" default="fast"><option value="fast"/><option value="safe"/></content></parameter>
<parameter name="db_password"><shortdesc lang="en">Password</shortdesc><content type="string"/></parameter>
<parameter name="old"><deprecated/><shortdesc lang="en">Old</shortdesc><content type="integer" default="3"/></parameter>
</parameters>
<actions><action name="start" timeout="60s"/><action name="monitor" timeout="30s" interval="10s" role="Promoted"/><action name="monitor" timeout="20s" interval="11s"/></actions>
</resource-agent>`

t.test('meta-data -> the wizard schema', async (t) => {
  const m = parseMetaData(SAMPLE)
  const s = paramsSchema(m, 'x:S') as { required: string[]; properties: Record<string, Record<string, unknown>>; description: string }
  t.same(s.required, ['need'])
  t.same(Object.keys(s.properties), ['need', 'mode', 'db_password', 'old'], 'required first, deprecated last')
  t.same(s.properties.mode?.enum, ['fast', 'safe'])
  t.equal(s.properties.mode?.default, 'fast')
  t.same(s.properties.db_password?.['x-mccs'], { order: 3, group: 'Optional', secret: true, widget: 'password' })
  t.equal((s.properties.old?.['x-mccs'] as { group: string }).group, 'Deprecated')
  t.match(s.description, /Advised timeouts: start 60 s, monitor 20 s\./, 'the monitor without a role')
  t.same(
    checkParams(m, 'x:S', { need: 'y', mode: 'slow', old: '4' }).map((p) => p.param),
    ['mode'],
  )
  t.same(
    checkParams(m, 'x:S', { need: '' }).map((p) => p.param),
    ['need'],
    'an empty required value is missing',
  )
})

t.test('every agent Debian ships parses into a schema', async (t) => {
  const root = '/usr/lib/ocf/resource.d'
  // (ocf.test.ts puts a provider of its own there for a while: not Debian's, skipped.)
  const agents = fs
    .readdirSync(root)
    .filter((p) => !p.startsWith('mccs-test-'))
    .flatMap((p) => fs.readdirSync(path.join(root, p)).map((n) => path.join(root, p, n)))
    .filter((f) => {
      try {
        fs.accessSync(f, fs.constants.X_OK)
        return fs.statSync(f).isFile()
      } catch {
        return false
      }
    })
  t.ok(agents.length > 100, `${agents.length} agents`)
  const failures: string[] = []
  for (const f of agents) {
    let xml: string
    try {
      xml = execFileSync(f, ['meta-data'], {
        env: { PATH: '/usr/sbin:/usr/bin:/sbin:/bin', OCF_ROOT: '/usr/lib/ocf' },
        timeout: 10_000,
        stdio: ['ignore', 'pipe', 'ignore'],
      }).toString()
    } catch {
      continue
    } // an agent whose meta-data needs what is not installed here: not the reader's concern
    try {
      const m = parseMetaData(xml)
      paramsSchema(m, path.basename(f))
      if (!m.params.every((p) => p.name)) failures.push(`${f}: a parameter without a name`)
    } catch (e) {
      failures.push(`${f}: ${(e as Error).message}`)
    }
  }
  t.same(failures, [])
})

t.test('exit codes as Pacemaker treats them', async (t) => {
  const r = (code: number | null, o: { timedOut?: boolean; stderr?: string } = {}) => ({
    code,
    signal: null,
    stdout: '',
    stderr: o.stderr ?? '',
    timedOut: o.timedOut ?? false,
  })
  const mon = (c: number) => {
    const a = monitorAnswer(r(c))
    return `${a.answer}${a.answer === 'failed' ? `/${a.recoverable ? 'soft' : 'hard'}` : ''}`
  }
  t.same([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 190, 191, 42].map(mon), [
    'ok',
    'failed/soft',
    'failed/hard',
    'failed/hard',
    'failed/hard',
    'failed/hard',
    'invalid',
    'notRunning',
    'ok',
    'failed/soft',
    'degraded',
    'degraded',
    'failed/soft',
  ])
  t.match(monitorAnswer(r(8)).reason, /promoted/)
  t.equal(startAnswer(r(7)).answer, 'failed', 'a start that leaves it not running failed')
  t.equal(startAnswer(r(6)).answer, 'invalid')
  t.same(
    [0, 7].map((c) => stopAnswer(r(c)).answer),
    ['ok', 'ok'],
    'stop: stopped, or was not running',
  )
  t.same(
    [1, 5].map((c) => stopAnswer(r(c)).recoverable),
    [true, false],
  )
  t.equal(stopAnswer(r(null, { timedOut: true })).answer, 'failed')
  t.match(startAnswer(r(1, { stderr: 'x\nocf-exit-reason:disk full\n' })).reason, /start: exit 1 \(OCF_ERR_GENERIC\): disk full/)
  t.match(startAnswer(r(null, { timedOut: true }), 20).reason, /start timed out after 20 s/)
})

t.test('agent names', async (t) => {
  t.same(parseAgent('ocf:heartbeat:IPaddr2'), {
    provider: 'heartbeat',
    name: 'IPaddr2',
    id: 'heartbeat:IPaddr2',
    path: '/usr/lib/ocf/resource.d/heartbeat/IPaddr2',
  })
  for (const bad of ['', 'Dummy', 'a:b:c', 'heartbeat:..', 'heartbeat:.hidden', 'x:a/b', 'x:a b', 7])
    t.type(parseAgent(bad), 'string', String(bad))
})
