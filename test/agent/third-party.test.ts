// Acceptance (issue 2, point 4): the example third-party plugin in examples/ is built with
// `mccs-plugin build`, dropped into the install's plugins/ folder, and run by the agent — with no
// change to core/.
import t from 'tap'
import { cp, stat, mkdir, rm } from 'node:fs/promises'
import { execFile } from 'node:child_process'
import path from 'node:path'
import { packageRoot } from '../../core/paths.js'
import { startTestAgent, res, type TestAgent } from './helpers.js'

const root = packageRoot()
const run = (file: string, args: string[], env?: NodeJS.ProcessEnv) =>
  new Promise<{ code: number; out: string; err: string }>((resolve) => {
    execFile(file, args, { env, timeout: 120_000 }, (err, out, errOut) =>
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, out, err: errOut }),
    )
  })

let a: TestAgent
const markerDir = `/tmp/mccs-hello-${process.pid}`
t.before(async () => {
  a = await startTestAgent(
    {
      types: {},
      groups: [{ name: 'g', nodes: ['n1'], failoverOnFailure: false, autoStart: false, autoFailback: false }],
      resources: [res('hello', 'hello-file', {}, { nodeAttrs: { n1: { dir: markerDir } } })],
      dependencies: [],
    },
    {
      prepare: async (home) => {
        const dest = path.join(home, 'plugins/hello-file')
        await cp(path.join(root, 'examples/hello-file'), dest, {
          recursive: true,
          filter: (src) => !src.includes('/dist') && !src.includes('node_modules'),
        })
        const env = { ...process.env }
        delete env.NODE_OPTIONS
        const built = await run(path.join(root, 'sdk/plugin-kit/bin/mccs-plugin'), ['build', dest], env)
        if (built.code !== 0) throw new Error(`mccs-plugin build failed: ${built.err}`)
        await mkdir(markerDir, { recursive: true })
      },
    },
  )
})
t.teardown(async () => {
  await a?.cleanup()
  await rm(markerDir, { recursive: true, force: true })
})

t.test('the agent lists the third-party type and runs a resource of it', async (t) => {
  const list = await a.cli('plugin', 'list')
  t.equal(list.code, 0, list.err)
  t.match(list.out, /hello-file\s+0\.1\.0\s+resource/)
  const info = await a.cli('plugin', 'info', 'hello-file', '--json')
  t.match(JSON.parse(info.out), { name: 'hello-file', permissions: ['exec:/usr/bin/touch', 'exec:/usr/bin/rm', 'exec:/usr/bin/test'] })
  const on = await a.cli('group', 'online', 'g', '--wait', '--timeout', '60')
  t.equal(on.code, 0, on.err + on.out)
  t.ok(
    await stat(path.join(markerDir, 'hello.marker')).then(
      () => true,
      () => false,
    ),
    'the marker file exists',
  )
  const off = await a.cli('group', 'offline', 'g', '--wait', '--timeout', '60')
  t.equal(off.code, 0, off.err + off.out)
  t.notOk(
    await stat(path.join(markerDir, 'hello.marker')).then(
      () => true,
      () => false,
    ),
    'the marker file is gone',
  )
})
