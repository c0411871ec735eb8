// Issue 16, What 5 / the manual's reinstall and upgrade (4.2.5.2, 5.5): the tarball's install.sh run over an
// existing install, in the namespace lab (a clean host of test/install/host.ts). It must keep config/
// (main.json, hb.json, the cluster key, the license, setup.json), script/, logs/ and state/, replace the
// program, leave the unit enabled, and be harmless when run again. First over an install of the same
// artifact, twice, with the agent running as the operator's upgrade finds it; then over the previous
// release's artifact (the rolling-upgrade test's commit, built by its own package script, cached).
import t, { type Test } from 'tap'
import { execFile, type ChildProcess } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { promisify } from 'node:util'
import { createLab, labAvailable, type Lab } from '../../scripts/lab/lab.js'
import { until } from '../../scripts/lab/agent-cluster.js'
import { packageRoot } from '../../core/paths.js'
import { packageCheckout, packageCommit, type Artifact } from '../../scripts/lab/artifact.js'
import { commitOf } from '../../scripts/lab/build-commit.js'
import { Host, unitCommand } from './host.js'

t.setTimeout(1_500_000) // packaging (when not cached) copies ~150 MB and compresses it: minutes on a loaded machine

/** The previous release, as test/cluster/rolling-upgrade.test.ts takes it (the same cached artifact). */
const BEFORE = '252575c'
const H = '/opt/MCCS'
const root = packageRoot()
const avail = await labAvailable()
const missing = ['nsenter', 'unshare', 'setpriv', 'tar'].filter(
  (b) => !['/usr/bin', '/bin', '/usr/sbin', '/sbin'].some((d) => existsSync(path.join(d, b))),
)
const overlay = existsSync('/proc/filesystems') && readFileSync('/proc/filesystems', 'utf8').includes('overlay')
const skip = !avail.ok
  ? `network-namespace lab unavailable: ${avail.reason}`
  : missing.length
    ? `missing ${missing.join(', ')}`
    : !overlay
      ? 'no overlayfs in this kernel'
      : !existsSync(path.join(root, 'dist/mccs.js'))
        ? 'dist/mccs.js is missing (npm run build)'
        : undefined

/** What install.sh must keep, with its bytes and modes: every file under config/, script/, logs/, plugins/ and state/ (the control
 *  socket is the running agent's, not kept data). With the agent stopped all of it must be byte for byte;
 *  with it running, what it writes itself (its logs, engine.json) may move on, the rest must not. */
const MODES = `find config script logs plugins state ! -name '*.sock' | sort | xargs stat -c '%a %U %n'`
const KEPT = `cd ${H} && find config script logs plugins state -type f ! -name '*.sock' | sort | xargs -r sha256sum; ${MODES}`
const KEPT_RUNNING = `cd ${H} && { find config script plugins -type f | sort | xargs -r sha256sum; sha256sum logs/operator.log; ${MODES}; }`

if (skip) {
  t.test('install.sh over an existing install', { skip }, async () => {})
} else {
  const work = await mkdtemp(path.join(os.tmpdir(), 'mccs-install-over-'))
  const lab: Lab = await createLab({ prefix: `mccs${process.pid}o-`, nodes: 1, links: 1 })
  let host: Host | undefined
  let agent: ChildProcess | undefined
  let agentLog: string[] = []
  t.teardown(async () => {
    await host?.destroy()
    await lab.destroy()
    await rm(work, { recursive: true, force: true })
  })

  const unpack = async (a: Artifact, name: string): Promise<string> => {
    const dir = path.join(work, name)
    await promisify(execFile)('mkdir', ['-p', dir])
    await promisify(execFile)('tar', ['-xzf', a.tarball, '-C', dir])
    return path.join(dir, (await readdir(dir))[0]!, 'install.sh')
  }
  const ok = async (args: string[], what: string): Promise<string> => {
    const r = await host!.mccs(args)
    if (r.code !== 0) throw new Error(`${what}: mccs ${args.join(' ')} exited ${r.code}: ${r.stderr}${r.stdout}`)
    return r.stdout
  }
  const status = async () => JSON.parse(await ok(['status', '--json'], 'status')) as import('../../core/agent/status.js').AgentStatus
  /** Starts the agent exactly as the installed unit says (systemd is not PID 1 here). */
  const startAgent = async (): Promise<void> => {
    const unit = (await host!.sh(`cat /etc/systemd/system/mccs_agent.service`)).stdout
    const { env, argv, cwd } = unitCommand(unit)
    agent = host!.spawn(argv, { env: [...env, 'MCCS_CONSOLE_DISABLE=1'], ...(cwd ? { cwd } : {}) })
    const lines: string[] = []
    agentLog = lines
    createInterface({ input: agent.stderr! }).on('line', (l) => lines.push(l))
    await until(async () => (await host!.mccs(['status'])).code === 0 || undefined, 60_000, 'the agent answering')
  }
  /** The graceful stop systemctl stop (or restart) sends; how the agent ended ('exit 0' is a clean stop). */
  const stopAgent = async (): Promise<string> => {
    const c = agent
    if (!c) return 'not started'
    if (c.exitCode === null && c.signalCode === null) {
      const gone = new Promise((r) => c.once('exit', r))
      c.kill('SIGTERM')
      await Promise.race([gone, new Promise((r) => setTimeout(r, 60_000).unref())])
      if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
    }
    return c.signalCode ? `signal ${c.signalCode}` : `exit ${c.exitCode}`
  }
  /** An agent that ran through a reinstall (its program replaced under it) stops cleanly, as systemctl restart
   *  would stop it: no crash from code loaded late out of the replaced program. */
  const stopsCleanly = async (t: Test, what: string): Promise<void> => {
    const ended = await stopAgent()
    const errors = agentLog.filter((l) => /ERR_MODULE_NOT_FOUND|Cannot find module|ENOENT.*\/lib\/mccs|uncaught|unhandled/i.test(l))
    t.equal(ended, 'exit 0', `${what}: the agent that ran through it stopped cleanly`)
    t.same(errors, [], `${what}: nothing missing from the replaced program in its log`)
  }
  const enabled = async () =>
    (await host!.sh('readlink /usr/local/bin/mccs; readlink /etc/systemd/system/multi-user.target.wants/mccs_agent.service')).stdout
      .trim()
      .split('\n')
      .join(' ')
  const ENABLED = `${H}/bin/mccs /etc/systemd/system/mccs_agent.service`

  /** A single node set up from scratch by `install`, with a license, a group online, an operator's script,
   *  a log line of its own and a main.json changed after setup. Returns main.json's bytes. */
  const setUp = async (t: Test, install: string): Promise<string> => {
    host = await Host.create(lab, 'n1')
    const inst = await host.exec([install], { timeoutMs: 300_000 })
    t.equal(inst.code, 0, `first install.sh: ${inst.stderr}`)
    // This checkout's installer speaks Korean by default and hands the language on; an older one spoke English.
    t.match(inst.stdout, /run 'mccs setup'|'mccs setup --lang ko'/, 'a first install says what comes next')
    await ok(['license', 'keygen', '--out', '/root/lic.key', '--trust'], 'keygen')
    await ok(['license', 'issue', '--key', '/root/lic.key', '--node', 'n1', '--days', '30', '--out', '/root/n1.lic'], 'issue')
    await ok(
      ['setup', '--mode', 'single', '--name', 'n1', '--cluster', 'solo', '--link', `l0=${lab.addr('n1', 0)}`, '--license', '/root/n1.lic'],
      'setup',
    )
    await startAgent()
    await ok(['group', 'add', 'g', '--nodes', 'n1'], 'group add')
    await ok(['resource', 'add', 'r', '--type', 'dummy', '--group', 'g'], 'resource add')
    await ok(['group', 'online', 'g', '--wait', '--timeout', '60'], 'group online')
    // The operator's own files: a script the resources may run, a line in a log of theirs.
    await host.sh(`printf '#!/bin/sh\\necho marker\\n' > ${H}/script/marker.sh && chmod 0750 ${H}/script/marker.sh`)
    await host.sh(`echo 'operator note: before the reinstall' >> ${H}/logs/operator.log`)
    await host.sh(`mkdir -p ${H}/plugins/mine && echo '{}' > ${H}/plugins/mine/notes.json`)
    // The operator's own folder modes: config/ closed to other users, logs/ opened to a log shipper's user.
    await host.sh(`chmod 0700 ${H}/config && chmod 0755 ${H}/logs`)
    const main = (await host.sh(`cat ${H}/config/main.json`)).stdout
    t.match(main, /"name": "g"/, 'main.json changed since setup (the group and its resource)')
    return main
  }

  /** After a reinstall: the program works, the agent starts as the unit says, and the node is healthy with
   *  its license and group. */
  const healthy = async (t: Test, what: string): Promise<void> => {
    if (agent && agent.exitCode === null && agent.signalCode === null) await stopsCleanly(t, what)
    t.equal((await host!.mccs(['status'])).code, 4, `${what}: the agent is stopped`)
    await startAgent()
    const s = await until(
      async () => {
        const s = await status()
        return s.groups.find((g) => g.name === 'g')?.nodes.n1 === 'online' ? s : undefined
      },
      60_000,
      `g online again after ${what}`,
    )
    t.equal(s.node, 'n1')
    t.same(
      s.nodes.map((n) => [n.name, n.needsFence]),
      [['n1', false]],
      `${what}: nobody to fence`,
    )
    t.equal(s.licenses?.n1?.valid, true, `${what}: still licensed`)
    t.match(await ok(['status'], 'status'), /클러스터 solo\s+노드 n1/, `${what}: mccs status answers`)
  }

  t.test('install.sh over an install of the same artifact, with its agent running, twice', async (t) => {
    const install = await unpack(await packageCheckout(), 'current')
    const main = await setUp(t, install)
    // /etc/logrotate.d/mccs is the operator's to edit (the Debian package makes it a conffile): the first
    // install put the shipped one there; the operator keeps a month of logs instead of two weeks.
    const LR = '/etc/logrotate.d/mccs'
    t.equal(
      (await host!.sh(`cmp ${LR} ${H}/lib/mccs/config-templates/logrotate.mccs && echo same`)).stdout,
      'same\n',
      'the first install put the shipped logrotate file',
    )
    await host!.sh(`sed -i 's/rotate 14/rotate 30/' ${LR}`)
    const rotation = (await host!.sh(`cat ${LR}`)).stdout
    t.match(rotation, /rotate 30/)

    // The first reinstall finds the agent running (an upgrade as an operator does it); the second finds it
    // stopped, so every kept byte can be compared.
    for (const round of [1, 2]) {
      if (round === 2) await stopsCleanly(t, 'before install 3')
      const list = round === 1 ? KEPT_RUNNING : KEPT
      const before = (await host!.sh(list)).stdout
      t.match(before, /config\/cluster\.key/, 'the list of kept files has the cluster key')
      t.match(before, /config\/mccs\.lic/, 'and the license')
      const program = (await host!.sh(`stat -c %i ${H}/lib/mccs/dist/mccs.js`)).stdout
      const r = await host!.exec([install], { timeoutMs: 300_000 })
      t.equal(r.code, 0, `install ${round + 1}: ${r.stderr}`)
      // In the language the node was set up with: Korean, setup's default (install-lang.test.ts has English).
      t.match(r.stdout, /\/opt\/MCCS\/config에 남아 있던 구성을 씁니다/, `install ${round + 1} says it used the kept configuration`)
      t.equal(await enabled(), ENABLED, `install ${round + 1}: mccs on the PATH, the unit still enabled`)
      t.equal(
        (await host!.sh(list)).stdout,
        before,
        round === 1
          ? "install 2 (agent running): config and script byte for byte, the operator's log line, every log and state file still there"
          : 'install 3 (agent stopped): config, script, logs and state byte for byte',
      )
      t.equal((await host!.sh(`cat ${H}/config/main.json`)).stdout, main, `install ${round + 1}: main.json byte for byte`)
      t.equal((await host!.sh(`cat ${LR}`)).stdout, rotation, `install ${round + 1}: the operator's logrotate file kept`)
      t.match(r.stdout, /\/etc\/logrotate\.d\/mccs은\(는\) 여기서 바뀌었으므로 그대로 두었습니다/, `install ${round + 1} says so`)
      t.not((await host!.sh(`stat -c %i ${H}/lib/mccs/dist/mccs.js`)).stdout, program, `install ${round + 1}: the program replaced`)
      t.equal(
        (await host!.sh(`ls ${H}`)).stdout.split(/\s+/).filter(Boolean).sort().join(' '),
        'bin config lib logs plugins script state uninstall',
        `install ${round + 1}: no lib.new or lib.old left`,
      )
      if (round === 1) t.equal((await host!.mccs(['status'])).code, 0, 'install 2: the running agent still answers on the replaced program')
      await healthy(t, `install ${round + 1}`)
    }
    t.equal(
      (await host!.sh(`${H}/script/marker.sh; grep -c 'operator note' ${H}/logs/operator.log`)).stdout,
      'marker\n1\n',
      'the script runs, the log line is there once',
    )
    t.equal(
      (await host!.sh(`cat ${H}/config/main.json`)).stdout,
      main,
      'main.json byte for byte after the agent ran on the reinstalled program',
    )
    // The uninstaller (no purge) keeps it too, as dpkg keeps a conffile; the next install uses it.
    await stopAgent()
    const un = await host!.exec([`${H}/uninstall`])
    t.equal(un.code, 0, `uninstall: ${un.stderr}`)
    t.equal((await host!.sh(`cat ${LR}`)).stdout, rotation, "the uninstaller keeps the operator's logrotate file")
    t.equal((await host!.exec([install], { timeoutMs: 300_000 })).code, 0, 'installed again')
    t.equal((await host!.sh(`cat ${LR}`)).stdout, rotation, 'and the install after it too')
    // Back to the shipped text, it is the installer's again: an install replaces it with the shipped one.
    await host!.sh(`cp ${H}/lib/mccs/config-templates/logrotate.mccs ${LR}`)
    t.equal((await host!.exec([install], { timeoutMs: 300_000 })).code, 0)
    t.equal(
      (await host!.sh(`cmp ${LR} ${H}/lib/mccs/config-templates/logrotate.mccs && echo same`)).stdout,
      'same\n',
      'an unchanged logrotate file follows the shipped one',
    )
    await host!.destroy()
    host = undefined
  })

  t.test(
    `install.sh of this checkout over the previous release (${BEFORE})`,
    { skip: (await commitOf(BEFORE)) ? undefined : `commit ${BEFORE} not in this checkout` },
    async (t) => {
      const [oldPkg, newPkg] = await Promise.all([packageCommit(BEFORE), packageCheckout()])
      const main = await setUp(t, await unpack(oldPkg, 'before'))
      // The old release's agent runs through the upgrade, as it would until systemctl restart.
      const before = (await host!.sh(KEPT_RUNNING)).stdout
      const r = await host!.exec([await unpack(newPkg, 'after')], { timeoutMs: 300_000 })
      t.equal(r.code, 0, `the upgrade: ${r.stderr}`)
      // The language the old release's setup recorded (Korean by default since setup.json; English before).
      t.match(r.stdout, /configuration kept in \/opt\/MCCS\/config is used|\/opt\/MCCS\/config에 남아 있던 구성을 씁니다/)
      t.equal(await enabled(), ENABLED, 'mccs on the PATH, the unit still enabled')
      t.equal((await host!.sh(KEPT_RUNNING)).stdout, before, 'config, script and plugins byte for byte, every log and state file there')
      t.equal((await host!.mccs(['status'])).code, 0, 'the old agent still answers on the replaced program')
      t.equal((await host!.sh(`cat ${H}/config/main.json`)).stdout, main, 'main.json byte for byte')
      await healthy(t, 'the upgrade')
      t.equal((await host!.sh(`${H}/script/marker.sh`)).stdout, 'marker\n', 'the script kept')
      await stopAgent()
    },
  )
}
