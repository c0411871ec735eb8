// The resync rate limit (resyncRateMiBs) is checked at every edge where mirror-disk attributes are:
// the configuration (main.json against the type's wizard schema), the plugin's validate, the agent's
// MirrorManager (configFromAttrs, what the capability builds a volume from) and the volume's own
// checkConfig. Each refusal names the field and the reason; nothing is built from a bad value.
import t from 'tap'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { createTestHost } from '@mccs/plugin-kit/testing'
import { validateHb, validateMain } from '../../core/config/validate.js'
import { formatIssue } from '../../core/config/issue.js'
import { checkConfig, type VolumeConfig } from '../../core/mirror/volume.js'
import { configFromAttrs, MirrorManager } from '../../core/mirror/manager.js'
import { ProcManager } from '../../core/plugins/caps/proc.js'
import { mirrorProvider } from '../../core/plugins/caps/mirror.js'
import { validPair } from '../config/fixture.js'

const pluginDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../plugins/mirror-disk')
const wizard = (JSON.parse(fs.readFileSync(path.join(pluginDir, 'plugin.json'), 'utf8')) as { wizard: object }).wizard
const BAD: unknown[] = [-1, 1.5, '10', 65537, null, true]
const secret = { cluster: 'c', key: Buffer.alloc(32, 1) }

t.test('checkConfig and configFromAttrs', async (t) => {
  const base: VolumeConfig = {
    resource: 'md',
    node: 'n1',
    backing: '/tmp/md.img',
    runDir: '/tmp/mdrun',
    listen: { host: '127.0.0.1', port: 7789 },
    peer: { host: '127.0.0.2', port: 7789 },
    mode: 'sync',
    secret,
  }
  for (const v of [undefined, 0, 1, 100, 65536])
    t.doesNotThrow(() => checkConfig({ ...base, resyncRateMiBs: v as number }), `accepted: ${v}`)
  const attrs = { backing: '/tmp/md.img', replicationAddress: '127.0.0.1', peerAddress: '127.0.0.2' }
  t.equal(
    configFromAttrs('md', 'n1', { ...attrs, resyncRateMiBs: 40 }, '/tmp/run', secret).resyncRateMiBs,
    40,
    'the attribute reaches the volume',
  )
  t.equal(configFromAttrs('md', 'n1', attrs, '/tmp/run', secret).resyncRateMiBs, undefined, 'absent: unlimited')
  for (const v of BAD) {
    t.throws(
      () => checkConfig({ ...base, resyncRateMiBs: v as number }),
      { code: 'MCCS_ERR_INVALID', field: 'resyncRateMiBs', reason: /integer 0\.\.65536/ },
      `checkConfig refuses ${JSON.stringify(v)}`,
    )
    t.throws(
      () => configFromAttrs('md', 'n1', { ...attrs, resyncRateMiBs: v }, '/tmp/run', secret),
      { code: 'MCCS_ERR_CAPABILITY_ARGS', field: '/resyncRateMiBs', reason: /integer 0\.\.65536/ },
      `configFromAttrs refuses ${JSON.stringify(v)}`,
    )
  }
})

t.test("main.json: the wizard schema refuses a bad value at the resource's attribute", async (t) => {
  const { hbText } = await validPair()
  const hb = validateHb(hbText, { file: 'hb.json' })
  if (!hb.ok) throw new Error('fixture hb.json invalid')
  const types = { has: (x: string) => x === 'mirror-disk', attributeSchema: (x: string) => (x === 'mirror-disk' ? wizard : undefined) }
  const main = (rate: unknown, where: 'attrs' | 'node') => ({
    generation: 1,
    groups: [{ name: 'db', nodes: ['node1', 'node2'] }],
    resources: [
      {
        name: 'md',
        type: 'mirror-disk',
        group: 'db',
        attrs: { mountPoint: '/srv/db', ...(where === 'attrs' ? { resyncRateMiBs: rate } : {}) },
        nodeAttrs: {
          node1: {
            backing: '/dev/vdb',
            replicationAddress: '10.0.0.1',
            peerAddress: '10.0.0.2',
            ...(where === 'node' ? { resyncRateMiBs: rate } : {}),
          },
          node2: { backing: '/dev/vdb', replicationAddress: '10.0.0.2', peerAddress: '10.0.0.1' },
        },
      },
    ],
    dependencies: [],
  })
  const ok = validateMain(main(50, 'attrs'), { file: 'main.json', hb: hb.config, types })
  t.ok(ok.ok, ok.ok ? 'resyncRateMiBs 50 accepted' : ok.errors.map(formatIssue).join('\n'))
  for (const v of [-1, 1.5, '10', 65537]) {
    const r = validateMain(main(v, 'attrs'), { file: 'main.json', hb: hb.config, types })
    t.ok(
      !r.ok && r.errors.some((e) => e.path === '/resources/0/attrs/resyncRateMiBs'),
      `${JSON.stringify(v)} refused at /resources/0/attrs/resyncRateMiBs`,
    )
  }
  const r = validateMain(main(-5, 'node'), { file: 'main.json', hb: hb.config, types })
  t.ok(
    !r.ok && r.errors.some((e) => e.path === '/resources/0/nodeAttrs/node1/resyncRateMiBs'),
    "a node's own bad value refused at its nodeAttrs",
  )
})

t.test("the plugin's validate names the field, per node", async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mdr-'))
  const procs = new ProcManager({ stateDir: path.join(dir, 'proc') })
  const mm = new MirrorManager({ procs, runBase: path.join(dir, 'run'), secret: () => secret })
  const h = await createTestHost({ pluginDir, fakes: { providers: [mirrorProvider(mm)] } })
  t.teardown(async () => {
    await h.dispose()
    mm.close()
    procs.close()
    fs.rmSync(dir, { recursive: true, force: true })
  })
  const n1 = { backing: '/tmp/x.img', replicationAddress: '127.0.0.1', peerAddress: '127.0.0.2', mountPoint: '/tmp/mnt-x' }
  const n2 = { ...n1, replicationAddress: '127.0.0.2', peerAddress: '127.0.0.1' }
  for (const v of BAD) {
    const r = await h.call('validate', { args: [{ perNode: { n1: { ...n1, resyncRateMiBs: v }, n2: { ...n2, resyncRateMiBs: 10 } } }] })
    const d = (r.diagnostics ?? []).map((x) => `${x.path}: ${x.summary ?? ''}`)
    t.ok(
      r.answer === 'invalid' && d.some((x) => /^\/nodes\/n1\/resyncRateMiBs: must be an integer 0\.\.65536/.test(x)),
      `${JSON.stringify(v)}: ${d.join('; ')}`,
    )
    t.notOk(
      d.some((x) => x.startsWith('/nodes/n2/resyncRateMiBs')),
      'the good value on n2 is not named',
    )
  }
})
