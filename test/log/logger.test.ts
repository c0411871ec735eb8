// The agent's log (finding 6 of issue 12): created 0640 and never world-readable (an existing file and its
// rotations are narrowed when the log opens), and redacted by the same module as support bundles — key
// names, value patterns, and the values the configuration marks secret.
import t, { type Test } from 'tap'
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { createLog } from '../../core/log/logger.js'
import * as R from '../../core/log/redact.js'
import { readFileSync } from 'node:fs'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { S, processAttrs, vaultAttrs, vaultNodeAttrs, leaks, fixturePlugins } from '../support/planted.js'

const vaultSchema = JSON.parse(readFileSync(path.join(fixturePlugins, 'vault/plugin.json'), 'utf8')).wizard

async function dir(t: Test): Promise<string> {
  const d = await mkdtemp(path.join(os.tmpdir(), 'mccs-log-'))
  t.teardown(() => rm(d, { recursive: true, force: true }))
  return d
}
const mode = async (f: string) => (await stat(f)).mode & 0o777
const lines = async (f: string) =>
  (await readFile(f, 'utf8'))
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>)
const settle = async (log: { flush(): void }) => {
  await new Promise((r) => setTimeout(r, 50))
  log.flush()
}

t.test('a new log file is 0640 whatever the umask; an existing one and its rotations are narrowed at open', async (t) => {
  const d = await dir(t)
  const old = process.umask(0)
  t.teardown(() => {
    process.umask(old)
  })
  const fresh = path.join(d, 'new/mccs.log')
  const a = createLog({ file: fresh })
  a.log('info', 'hello')
  await settle(a)
  t.equal(await mode(fresh), 0o640, 'created 0640')
  t.match(await readFile(fresh, 'utf8'), /"msg":"hello"/)

  const f = path.join(d, 'mccs.log')
  await writeFile(f, '{"msg":"older"}\n', { mode: 0o666 })
  await writeFile(`${f}.1`, '{"msg":"oldest"}\n', { mode: 0o644 })
  await writeFile(`${f}.2.gz`, '', { mode: 0o604 })
  await writeFile(path.join(d, 'other.txt'), '', { mode: 0o644 })
  const b = createLog({ file: f })
  b.log('info', 'reopened')
  await settle(b)
  t.equal(await mode(f), 0o640, 'the existing file narrowed to 0640')
  t.equal(await mode(`${f}.1`), 0o640, 'a rotation narrowed')
  t.equal(await mode(`${f}.2.gz`), 0o600, 'a rotation narrowed, never widened (0604 -> 0600)')
  t.equal(await mode(path.join(d, 'other.txt')), 0o644, 'another file of the folder is left alone')
  t.match(await readFile(f, 'utf8'), /older[\s\S]*reopened/, 'appended, not truncated')
})

t.test("the log redacts with the bundle's redaction: keys, values, and the configuration's secret values", async (t) => {
  const d = await dir(t)
  const f = path.join(d, 'mccs.log')
  // The configuration in force tells which values are secret (the store does this when it loads or commits).
  R.rememberSecrets({ resources: [{ name: 'vault1', type: 'vault', attrs: vaultAttrs, nodeAttrs: vaultNodeAttrs }] }, (type: string) =>
    type === 'vault' ? vaultSchema : undefined,
  )
  const log = createLog({ file: f })
  const data = {
    env: processAttrs.env,
    argv: processAttrs.argv,
    attrs: vaultAttrs,
    err: new Error(`connect to postgres://app:${S.envUrlPassword}@db.example failed`),
  }
  log.log('warn', `started ${processAttrs.argv.join(' ')} with Authorization: Bearer ${S.bearer}`, data)
  log
    .child({ plugin: 'vault', resource: 'vault1' })
    .log('info', `unsealing with phrase ${S.schemaPhrase} then ${S.nodePhrase}`, { seal: S.nestedSeal, detail: `pin=${S.widgetPin}` })
  await settle(log)
  const text = await readFile(f, 'utf8')
  t.same(leaks([['mccs.log', Buffer.from(text)]]), [], 'no planted secret in the log')
  const [first, second] = await lines(f)
  t.equal(
    first!.msg,
    R.redactText(`started ${processAttrs.argv.join(' ')} with Authorization: Bearer ${S.bearer}`),
    'the message: same redaction as the bundle',
  )
  t.same(first!.env, R.redactJson(processAttrs.env), 'the data: same redaction as the bundle')
  t.same(first!.argv, R.redactJson(processAttrs.argv))
  t.match(first, {
    env: { DB_HOST: 'db.example', APP_MODE: 'production', DB_PASS: '[redacted]', MYSQL_PWD: '[redacted]' },
    err: { message: /^connect to postgres:\/\/app:\[redacted\]@db\.example failed$/ },
  })
  t.match(second, { plugin: 'vault', resource: 'vault1', msg: 'unsealing with phrase [redacted] then [redacted]', seal: '[redacted]' })
})

t.test('flush keeps lines in order, and what is queued at a deliberate exit is written', async (t) => {
  const d = await dir(t)
  const f = path.join(d, 'mccs.log')
  const log = createLog({ file: f })
  t.teardown(() => log.close())
  for (let i = 0; i < 500; i++) {
    log.log('info', `line ${i}`)
    if (i % 50 === 0) log.flush()
  }
  await settle(log)
  t.same(
    (await lines(f)).map((l) => l.msg),
    Array.from({ length: 500 }, (_, i) => `line ${i}`),
    'every line, in order, despite flushes mid-write',
  )

  // The agent's last words before process.exit (an isolated-vm catastrophe): queued behind a write in flight.
  const g = path.join(d, 'exit.log')
  const logger = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../core/log/logger.ts')
  const script =
    `import { createLog } from ${JSON.stringify(logger)}; const log = createLog({ file: ${JSON.stringify(g)} });` +
    'for (let i = 0; i < 1000; i++) log.log("info", "line " + i); setImmediate(() => { log.log("error", "last words"); log.flush(); process.exit(70) })'
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 })
  t.equal(r.status, 70, r.stderr)
  const got = await lines(g)
  t.equal(got.length, 1001, 'all 1,000 lines and the last words')
  t.ok(
    got.some((l) => l.msg === 'last words'),
    'the last words are there (at exit they may land before the batch that was in flight)',
  )
})
