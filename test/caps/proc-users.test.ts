// Issue 12, finding 2 (second part): the `proc` permission started any program as any user, root
// included. Now plugin.json declares the users (procUsers), the manifest is validated, every start is
// checked after the user and group are resolved, and `mccs plugin list/info` show the users.
// The enforcement runs through the real host, with copies of the built-in process plugin whose only
// difference is their procUsers, and a real ProcManager.
import t, { type Test } from 'tap'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { createTestHost, type TestHost } from '@mccs/plugin-kit/testing'
import { ProcManager, isAlive } from '../../core/plugins/caps/proc.js'
import { procProvider } from '../../core/plugins/caps/proc-provider.js'
import { execProvider } from '../../core/plugins/caps/exec.js'
import { procUserRefusal } from '../../core/plugins/caps/proc-users.js'
import { validateManifest, loadPluginDir } from '../../core/plugins/manifest.js'
import { pluginCommand } from '../../core/cli/plugin-cmd.js'
import { isMccsError } from '../../core/errors.js'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
const processDir = path.join(root, 'plugins/process')
const SLEEP = fs.existsSync('/bin/sleep') ? '/bin/sleep' : '/usr/bin/sleep'
const isRoot = process.getuid?.() === 0
const needRoot = { skip: isRoot ? false : 'switching users needs root' }

const manifest = (more: Record<string, unknown> = {}): Record<string, unknown> => ({
  name: 'runner',
  displayName: 'Runner',
  version: '1.0.0',
  kind: 'resource',
  engines: { mccs: '^1.0.0' },
  main: 'dist/index.js',
  permissions: ['proc'],
  wizard: { type: 'object', properties: {} },
  ...more,
})

function refused(t: Test, doc: unknown, field: string, what: string): Error | undefined {
  try {
    validateManifest(doc, 'at test')
    t.fail(`${what}: accepted`)
  } catch (e) {
    t.ok(isMccsError(e, 'MCCS_ERR_MANIFEST'), `${what}: MCCS_ERR_MANIFEST`)
    t.equal((e as { field?: string }).field, field, `${what}: names ${field}`)
    return e as Error
  }
  return undefined
}

t.test('manifest: procUsers validated with the field named', async (t) => {
  const m = validateManifest(manifest({ procUsers: ['root', '*', 'postgres'] }), 'at test')
  t.same(m.procUsers, ['root', '*', 'postgres'], 'root, any user, a name')
  t.equal(validateManifest(manifest(), 'at test').procUsers, undefined, 'absent is allowed (and means: no user)')
  const e = refused(t, manifest({ procUsers: ['-rf'] }), '/procUsers/0', 'a bad name')
  t.match(e?.message, /'-rf' is not a user name, "root" or "\*"/, 'the entry is quoted')
  refused(t, manifest({ procUsers: 'root' }), '/procUsers', 'a string, not a list')
  refused(t, manifest({ procUsers: ['*', '*'] }), '/procUsers', 'duplicates')
  const np = refused(t, manifest({ permissions: ['state'], procUsers: ['*'] }), '/procUsers', 'without the proc permission')
  t.match(np?.message, /does not hold the 'proc' permission/)
  const builtin = await loadPluginDir(processDir)
  t.same(builtin.manifest.procUsers, ['root', '*'], 'the built-in process type declares what it needs: root and any user')
})

t.test('procUserRefusal: root only by name, groups count', async (t) => {
  const nobody = { user: 'nobody', uid: 65534, gid: 65534, groupIsUsers: true }
  const rootT = { user: 'root', uid: 0, gid: 0, groupIsUsers: true }
  t.match(procUserRefusal([], nobody), /declares no procUsers/)
  t.equal(procUserRefusal(['*'], nobody), null)
  t.equal(procUserRefusal(['nobody'], nobody), null)
  t.match(procUserRefusal(['daemon'], nobody), /needs "nobody" or "\*"/)
  t.match(procUserRefusal(['*'], rootT), /needs "root"/, '"*" never means root')
  t.equal(procUserRefusal(['root'], rootT), null)
  t.match(procUserRefusal(['*'], { ...nobody, uid: 0, user: 'toor' }), /needs "root"/, 'uid 0 under another name is root')
  t.match(procUserRefusal(['*'], { ...nobody, gid: 0, group: 'root' }), /needs "root"/, 'group 0')
  t.match(
    procUserRefusal(['*', 'nobody'], { ...nobody, gid: 6, group: 'disk', groupIsUsers: false }),
    /group 'disk' \(gid 6, not one of the user's groups\).*needs "root"/,
    'a foreign group',
  )
})

/** A copy of the built-in process plugin under another name, with other procUsers (undefined: the
 *  field removed). */
function processCopy(t: Test, procUsers: string[] | undefined): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mccs-procusers-'))
  t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }))
  fs.cpSync(path.join(processDir, 'src'), path.join(dir, 'src'), { recursive: true })
  fs.cpSync(path.join(processDir, 'locales'), path.join(dir, 'locales'), { recursive: true }) // the manifest names them
  const m = JSON.parse(fs.readFileSync(path.join(processDir, 'plugin.json'), 'utf8')) as Record<string, unknown>
  m.name = 'proc-runner' // a third-party plugin may not take a built-in type's name
  if (procUsers === undefined) delete m.procUsers
  else m.procUsers = procUsers
  fs.writeFileSync(path.join(dir, 'plugin.json'), JSON.stringify(m, null, 2))
  return dir
}

async function hostWith(t: Test, procUsers: string[] | undefined): Promise<{ h: TestHost; pm: ProcManager; state: string }> {
  const state = fs.mkdtempSync(path.join(os.tmpdir(), 'mccs-procusers-state-'))
  const pm = new ProcManager({ stateDir: state })
  const h = await createTestHost({ pluginDir: processCopy(t, procUsers), fakes: { providers: [procProvider(pm), execProvider] } })
  t.teardown(() => {
    h.dispose()
    pm.close()
    for (const res of fs.readdirSync(state)) {
      for (const name of fs.readdirSync(path.join(state, res))) {
        for (const f of ['child.pid', 'supervisor.pid']) {
          let rec: { pid: number; start: number } | null = null
          try {
            const [p, s] = fs
              .readFileSync(path.join(state, res, name, f), 'utf8')
              .trim()
              .split(/\s+/)
            rec = { pid: Number(p), start: Number(s) }
          } catch {
            /* none */
          }
          if (rec && isAlive(rec))
            try {
              process.kill(f === 'child.pid' ? -rec.pid : rec.pid, 'SIGKILL')
            } catch {
              /* gone */
            }
        }
      }
    }
    fs.rmSync(state, { recursive: true, force: true })
  })
  return { h, pm, state }
}

/** online must be refused as invalid at /user, with nothing started and nothing written. */
async function refusedOnline(
  t: Test,
  x: { h: TestHost; pm: ProcManager; state: string },
  resource: string,
  attrs: Record<string, unknown>,
  why: RegExp,
): Promise<void> {
  const r = await x.h.call('online', { resource, attrs: { argv: [SLEEP, '1000'], ...attrs } })
  t.equal(r.answer, 'invalid', `${resource}: refused (${r.reason ?? r.diagnostics?.[0]?.summary})`)
  t.equal(r.diagnostics?.[0]?.path, '/user', `${resource}: the diagnostic points at the user`)
  t.match(r.diagnostics?.[0]?.summary, why, `${resource}: says why`)
  t.equal((await x.pm.status(resource, 'main')).running, false, `${resource}: nothing runs`)
  t.notOk(fs.existsSync(path.join(x.state, resource)), `${resource}: nothing was written`)
}

t.test('procUsers ["*"]: any user but root; root, group 0 and foreign groups refused', needRoot, async (t) => {
  const x = await hostWith(t, ['*'])
  await refusedOnline(t, x, 'as-agent', {}, /user 'root' \(uid 0\).*needs "root" in plugin\.json's procUsers \(declared: \*\)/)
  await refusedOnline(t, x, 'as-root', { user: 'root' }, /needs "root"/)
  await refusedOnline(t, x, 'as-uid0', { user: '0' }, /needs "root"/)
  await refusedOnline(t, x, 'group-root', { user: 'nobody', group: 'root' }, /group 'root' \(gid 0\b.*needs "root"/)
  await refusedOnline(t, x, 'group-disk', { user: 'nobody', group: 'disk' }, /group 'disk'.*not one of the user's groups.*needs "root"/)
  t.ok(
    x.h.logs.some((l) => /proc\.start refused/.test(l.msg)),
    'the refusal is logged as a warning',
  )

  const on = await x.h.call('online', { resource: 'as-nobody', attrs: { argv: [SLEEP, '1000'], user: 'nobody' } })
  t.equal(on.answer, 'ok', on.reason ?? '')
  const pid = (on.data as { pid: number }).pid
  t.match(fs.readFileSync(`/proc/${pid}/status`, 'utf8'), /^Uid:\s+65534\s+65534\s+65534\s+65534$/m, 'runs as nobody')
  const own = await x.h.call('online', { resource: 'own-group', attrs: { argv: [SLEEP, '1000'], user: 'nobody', group: 'nogroup' } })
  t.equal(own.answer, 'ok', `the user's own group is allowed: ${own.reason ?? ''}`)
})

t.test('procUsers naming users; absent procUsers: nothing starts', needRoot, async (t) => {
  const named = await hostWith(t, ['nobody'])
  const ok = await named.h.call('online', { resource: 'n', attrs: { argv: [SLEEP, '1000'], user: 'nobody' } })
  t.equal(ok.answer, 'ok', ok.reason ?? '')
  await refusedOnline(t, named, 'd', { user: 'daemon' }, /needs "daemon" or "\*" in plugin\.json's procUsers \(declared: nobody\)/)
  await refusedOnline(t, named, 'r', {}, /needs "root"/)

  const none = await hostWith(t, undefined)
  await refusedOnline(t, none, 'x', { user: 'nobody' }, /plugin\.json declares no procUsers/)
  // stop and status stay available (an upgrade that drops procUsers can still stop what runs)
  const off = await none.h.call('offline', { resource: 'x', attrs: { argv: [SLEEP, '1000'] } })
  t.equal(off.answer, 'ok', off.reason ?? '')
})

t.test('procUsers ["root"]: root allowed, other users refused', needRoot, async (t) => {
  const x = await hostWith(t, ['root'])
  const on = await x.h.call('online', { resource: 'r', attrs: { argv: [SLEEP, '1000'] } })
  t.equal(on.answer, 'ok', on.reason ?? '')
  await refusedOnline(t, x, 'n', { user: 'nobody' }, /needs "nobody" or "\*"/)
})

t.test("a spec's LD_PRELOAD reaches the service only, never a link of the launch chain that runs as root", needRoot, async (t) => {
  const x = await hostWith(t, ['*'])
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'mccs-preload-'))
  t.teardown(() => fs.rmSync(work, { recursive: true, force: true }))
  fs.chmodSync(work, 0o777)
  const record = path.join(work, 'loaded.txt')
  let lib = path.join(work, 'missing.so')
  const cc = ['/usr/bin/cc', '/usr/bin/gcc'].find((c) => fs.existsSync(c))
  if (cc) {
    // A library that records who loaded it: uid and program name, one line per process.
    const src = path.join(work, 'rec.c')
    fs.writeFileSync(
      src,
      `#include <stdio.h>
#include <unistd.h>
__attribute__((constructor)) static void rec(void) {
  char comm[64] = ""; FILE *c = fopen("/proc/self/comm", "r"); if (c) { if (!fgets(comm, sizeof comm, c)) comm[0] = 0; fclose(c); }
  FILE *f = fopen(${JSON.stringify(record)}, "a"); if (f) { fprintf(f, "%d %s", (int)getuid(), comm); fclose(f); }
}
`,
    )
    lib = path.join(work, 'rec.so')
    const r = spawnSync(cc, ['-shared', '-fPIC', '-o', lib, src], { encoding: 'utf8' })
    t.equal(r.status, 0, `compiled the recording library: ${r.stderr}`)
    fs.chmodSync(lib, 0o755)
  }
  const on = await x.h.call('online', { resource: 'pre', attrs: { argv: [SLEEP, '1000'], user: 'nobody', env: { LD_PRELOAD: lib } } })
  t.equal(on.answer, 'ok', on.reason ?? '')
  if (cc) {
    const lines = fs.readFileSync(record, 'utf8').trim().split('\n')
    t.same(lines, ['65534 sleep'], 'loaded once, by the service, as nobody (never by env, setsid or setpriv as root)')
  } else {
    // Without a compiler: the dynamic loader complains once per process that tried to preload it.
    const log = fs.readFileSync((on.data as { logFile: string }).logFile, 'utf8')
    t.equal(log.split('\n').filter((l) => l.includes('cannot be preloaded')).length, 1, 'only the service tried to preload it')
  }
})

t.test('mccs plugin list / info show the users a type may run processes as', async (t) => {
  const capture = async (args: string[], json = false): Promise<string> => {
    let out = ''
    const code = await pluginCommand(args, { json, pluginDirs: [] }, {
      out: (s: string) => {
        out += s + '\n'
      },
      err: () => {},
    } as never)
    t.equal(code, 0, `mccs plugin ${args.join(' ')}`)
    return out
  }
  const list = await capture(['list'])
  t.match(list, /^process\s.*proc\(as:root,\*\)/m, 'list: proc shown with its users')
  const info = await capture(['info', 'process'])
  t.match(info, /^process users: root .*\* \(any user but root\).*root included$/m, 'info: the users, root called out')
  const json = JSON.parse(await capture(['list'], true)) as { plugins: Array<{ type: string; procUsers?: string[] }> }
  t.same(json.plugins.find((p) => p.type === 'process')?.procUsers, ['root', '*'], 'list --json: procUsers')
  t.equal(json.plugins.find((p) => p.type === 'dummy')?.procUsers, undefined, 'types without proc show none')
})
