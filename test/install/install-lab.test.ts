// Issue 16, acceptance 1, 4 and 5, in the namespace lab: the artifact `npm run package` builds
// (scripts/package.ts) installed on clean hosts (test/install/host.ts: no node, npm or compiler on them),
// the unit verified and the agent started exactly as its ExecStart says, a first node set up without
// questions and healthy, a second node joined with mccs node add + mccs setup --join, a group moved
// between them; refused input (wrong or used token, a taken name, an address not on the host) changing
// nothing; uninstall keeping the operator's folders, a reinstall using them, purge removing them.
import t from 'tap'
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readdir, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { promisify } from 'node:util'
import { createLab, labAvailable, type Lab } from '../../scripts/lab/lab.js'
import { until } from '../../scripts/lab/agent-cluster.js'
import { packageRoot } from '../../core/paths.js'
import { packageCheckout } from '../../scripts/lab/artifact.js'
import { ABSENT_TOOLS, Host, unitCommand } from './host.js'
import type { ChildProcess } from 'node:child_process'

t.setTimeout(1_500_000) // packaging (when not cached) copies ~150 MB and compresses it: minutes on a loaded machine

const root = packageRoot()
const avail = await labAvailable()
const missing = ['dpkg-deb', 'nsenter', 'unshare', 'setpriv', 'systemd-analyze'].filter(
  (b) => !['/usr/bin', '/bin', '/usr/sbin'].some((d) => existsSync(path.join(d, b))),
)
const overlay = existsSync('/proc/filesystems') && (await import('node:fs')).readFileSync('/proc/filesystems', 'utf8').includes('overlay')
const skip = !avail.ok
  ? `network-namespace lab unavailable: ${avail.reason}`
  : missing.length
    ? `missing ${missing.join(', ')}`
    : !overlay
      ? 'no overlayfs in this kernel'
      : !existsSync(path.join(root, 'dist/mccs.js'))
        ? 'dist/mccs.js is missing (npm run build)'
        : undefined

if (skip) {
  t.test('install, setup, join, uninstall on clean hosts', { skip }, async () => {})
} else {
  const work = await mkdtemp(path.join(os.tmpdir(), 'mccs-install-'))
  const lab: Lab = await createLab({ prefix: `mccs${process.pid}i-`, nodes: 3, links: 2 })
  const hosts: Host[] = []
  t.teardown(async () => {
    for (const h of hosts) await h.destroy()
    await lab.destroy()
    await rm(work, { recursive: true, force: true })
  })
  const [h1, h2, h3] = [await Host.create(lab, 'n1'), await Host.create(lab, 'n2'), await Host.create(lab, 'n3')]
  hosts.push(h1!, h2!, h3!)
  const agents = new Map<Host, ChildProcess>()
  const logs = new Map<Host, string[]>()

  // The artifact `npm run package` makes (scripts/package.ts over this checkout's dist/), made once and cached
  // by what it is made of (scripts/lab/artifact.ts): the rolling-upgrade test uses the same one, so a suite
  // run packages this checkout once, not once per test.
  const tp = Date.now()
  const { deb, tarball } = await packageCheckout()
  const packagedMs = Date.now() - tp

  const ok = async (h: Host, args: string[], what: string): Promise<string> => {
    const r = await h.mccs(args)
    if (r.code !== 0) throw new Error(`${what}: mccs ${args.join(' ')} exited ${r.code}: ${r.stderr}${r.stdout}`)
    return r.stdout
  }
  const status = async (h: Host) =>
    JSON.parse(await ok(h, ['status', '--json'], 'status')) as import('../../core/agent/status.js').AgentStatus
  const configListing = async (h: Host) =>
    (await h.sh('ls -la --time-style=+%s.%N /opt/MCCS/config 2>&1; cat /opt/MCCS/config/hb.json 2>/dev/null')).stdout

  /** Starts the agent exactly as the installed unit says (systemd is not PID 1 here). */
  const startAgent = async (h: Host): Promise<void> => {
    const unit = (await h.sh('cat /lib/systemd/system/mccs_agent.service 2>/dev/null || cat /etc/systemd/system/mccs_agent.service')).stdout
    const { env, argv, cwd } = unitCommand(unit)
    const c = h.spawn(argv, { env: [...env, 'MCCS_CONSOLE_DISABLE=1'], ...(cwd ? { cwd } : {}) })
    const lines: string[] = []
    logs.set(h, lines)
    createInterface({ input: c.stderr! }).on('line', (l) => lines.push(l))
    agents.set(h, c)
    await until(async () => (await h.mccs(['status'])).code === 0 || undefined, 60_000, `the agent on ${h.node} answering`)
  }
  const stopAgent = async (h: Host): Promise<void> => {
    const c = agents.get(h)
    if (!c || c.exitCode !== null) return
    const gone = new Promise((r) => c.once('exit', r))
    c.kill('SIGTERM') // the graceful stop systemctl stop sends
    await Promise.race([gone, new Promise((r) => setTimeout(r, 60_000).unref())])
    if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
  }

  t.test('the artifacts: a Debian package and a tarball, built by scripts/package.ts', async (t) => {
    t.comment(`artifacts ready in ${packagedMs} ms: ${path.basename(deb)}, ${path.basename(tarball)}`)
    t.match(path.basename(deb), /^mccs_.*\.deb$/, 'the Debian package is named as the package script names it')
    t.match(path.basename(tarball), /^mccs-.*-linux-.*\.tar\.gz$/, 'and the tarball')
    const info = await promisify(execFile)('dpkg-deb', ['--info', deb])
    t.match(info.stdout, /Package: mccs/)
    t.notMatch(info.stdout, /Depends:.*nodejs/, 'Node travels with the package: no nodejs dependency (Debian 12 has 18)')
    const list = (await promisify(execFile)('dpkg-deb', ['--contents', deb], { maxBuffer: 1 << 26 })).stdout
    for (const f of [
      './opt/MCCS/lib/node/bin/node',
      './opt/MCCS/lib/mccs/dist/mccs.js',
      './opt/MCCS/lib/mccs/node_modules/isolated-vm/out/isolated_vm.node',
      './opt/MCCS/lib/mccs/plugins/dummy/plugin.json',
      './lib/systemd/system/mccs_agent.service',
      './usr/bin/mccs',
      './opt/MCCS/uninstall',
    ]) {
      t.ok(list.includes(f), `the package holds ${f}`)
    }
    t.notOk(/node_modules\/(typescript|esbuild|tsx|tap)\//.test(list), 'no build or test tool in the package')
  })

  t.test('a clean host has no node, npm or compiler; the Debian package installs there and the unit verifies', async (t) => {
    for (const h of [h1!, h2!]) {
      const before = await h.sh(`for b in ${ABSENT_TOOLS.join(' ')}; do command -v $b; done; true`)
      t.equal(before.stdout.trim(), '', `${h.node}: no ${ABSENT_TOOLS.join(', ')} on the PATH`)
      // The package speaks Korean, the manual's installer default, unless MCCS_LANG says otherwise (n2).
      const r = await h.exec(['dpkg', '-i', deb], { timeoutMs: 300_000, ...(h === h2 ? { env: ['MCCS_LANG=en'] } : {}) })
      t.equal(r.code, 0, `${h.node}: dpkg -i ${r.code ? r.stderr : ''}`)
      if (h === h2) t.match(r.stdout, /MCCS installed: run 'mccs setup'/, 'a first install says what comes next (MCCS_LANG=en)')
      else t.match(r.stdout, /MCCS를 설치했습니다: 'mccs setup'/, 'a first install says what comes next, in Korean by default')
      t.equal((await h.sh('command -v mccs')).stdout.trim(), '/usr/bin/mccs', 'mccs on the PATH')
      const dirs = await h.sh('cd /opt/MCCS && ls -d config script logs plugins state lib/mccs lib/node')
      t.equal(dirs.code, 0, `the manual's layout under /opt/MCCS: ${dirs.stderr}`)
      const wants = await h.sh('readlink -f /etc/systemd/system/multi-user.target.wants/mccs_agent.service')
      t.equal(wants.stdout.trim(), '/usr/lib/systemd/system/mccs_agent.service', 'mccs_agent enabled (multi-user.target wants it)')
      const verify = await h.exec(['systemd-analyze', 'verify', '/lib/systemd/system/mccs_agent.service'])
      t.equal(verify.code, 0, `systemd-analyze verify: ${verify.stderr}`)
      t.notMatch(verify.stderr, /mccs_agent/, `no complaint about the unit: ${verify.stderr}`)
    }
  })

  t.test('non-interactive setup makes a healthy single-node cluster, its agent started as the unit says', async (t) => {
    // The operator's own license key (an open build: mccs license keygen --trust), a license for n1 and n2.
    await ok(h1!, ['license', 'keygen', '--out', '/root/lic.key', '--trust'], 'keygen')
    for (const n of ['n1', 'n2'])
      await ok(
        h1!,
        ['license', 'issue', '--key', '/root/lic.key', '--node', n, '--days', '30', '--out', `/opt/MCCS/script/${n}.lic`],
        'issue',
      )
    const out = await ok(
      h1!,
      [
        'setup',
        '--name',
        'n1',
        '--cluster',
        'lab',
        '--link',
        `l0=${lab.addr('n1', 0)}`,
        '--link',
        `l1=${lab.addr('n1', 1)}`,
        '--lang',
        'en',
        '--license',
        '/opt/MCCS/script/n1.lic',
      ],
      'setup',
    )
    t.match(out, /node n1 set up: cluster lab/)
    const hb = JSON.parse((await h1!.sh('cat /opt/MCCS/config/hb.json')).stdout) as {
      nodes: Array<{ name: string; addresses: Record<string, string> }>
    }
    t.same(hb.nodes, [{ name: 'n1', addresses: { l0: lab.addr('n1', 0), l1: lab.addr('n1', 1) } }])
    t.match(
      (await h1!.sh('cat /opt/MCCS/config/setup.json')).stdout,
      /"language": "en"/,
      'the language chosen is kept in the configuration',
    )
    t.equal((await h1!.sh('stat -c %a /opt/MCCS/config/cluster.key')).stdout.trim(), '600', 'the cluster key only root reads')
    t.equal((await h1!.mccs(['config', 'validate'])).code, 0, 'mccs config validate passes')
    await startAgent(h1!)
    await ok(h1!, ['group', 'add', 'g', '--nodes', 'n1'], 'group add')
    await ok(h1!, ['resource', 'add', 'r', '--type', 'dummy', '--group', 'g'], 'resource add')
    const on = await h1!.mccs(['group', 'online', 'g', '--wait', '--timeout', '60'])
    t.equal(on.code, 0, `mccs group online g --wait: ${on.stderr}${on.stdout}`)
    const s = await status(h1!)
    t.equal(s.node, 'n1')
    t.same(
      s.nodes.map((n) => [n.name, n.needsFence]),
      [['n1', false]],
    )
    t.equal(s.licenses?.n1?.valid, true, 'licensed, not in limited mode')
    const text = await ok(h1!, ['status'], 'status')
    t.match(text, /cluster lab\s+node n1/, 'mccs status answers')
  })

  t.test('bad input is refused with its reason and changes nothing', async (t) => {
    const before1 = await configListing(h1!)
    const taken = await h1!.mccs(['node', 'add', 'n1', '--timeout', '5'])
    t.equal(taken.code, 3, 'a node name already taken')
    t.match(taken.stderr, /node name n1 is already taken/)
    t.equal(await configListing(h1!), before1, "the member's configuration is unchanged")

    const bad = await h2!.mccs(['setup', '--name', 'n2', '--cluster', 'lab', '--link', 'l0=10.80.0.99'])
    t.equal(bad.code, 3, 'a link address not on the host')
    t.match(bad.stderr, /--link l0: 10\.80\.0\.99 is not an address of this host/)
    t.match((await h2!.sh('ls -A /opt/MCCS/config')).stdout.trim(), /^(mccs\.config\.json)?$/, 'nothing written on n2')
    const lang = await h2!.mccs(['setup', '--name', 'n2', '--link', `l0=${lab.addr('n2', 0)}`, '--lang', 'fr'])
    t.equal(lang.code, 3)
    t.match(lang.stderr, /--lang: 'fr' is not a language/)
  })

  let token = ''
  t.test('mccs node add + mccs setup --join: a two-node cluster; a wrong or used token is refused', async (t) => {
    const add = h1!.spawn(['mccs', 'node', 'add', 'n2', '--timeout', '300'], {
      env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOME=/root'],
    })
    let addOut = ''
    add.stdout!.on('data', (d: Buffer) => {
      addOut += String(d)
    })
    add.stderr!.on('data', (d: Buffer) => {
      addOut += String(d)
    })
    const addDone = new Promise<number | null>((r) => add.once('exit', (c) => r(c)))
    token = await until(async () => /mccs1\.[0-9a-f]{16}\.[A-Za-z0-9_-]{43}/.exec(addOut)?.[0], 60_000, 'the join token')
    t.match(
      addOut,
      new RegExp(`mccs setup --join ${lab.addr('n1', 0).replace(/\./g, '\\.')} --token-file -`),
      'it prints the command for the new host',
    )

    // n2 trusts the operator's license key (as it would after mccs license keygen --trust there).
    await h2!.sh(`cat > /opt/MCCS/config/license-keys.pem <<'EOF'\n${(await h1!.sh('cat /opt/MCCS/config/license-keys.pem')).stdout}EOF`)
    await h2!.sh(`cat > /root/n2.lic <<'EOF'\n${(await h1!.sh('cat /opt/MCCS/script/n2.lic')).stdout}EOF`)
    const wrong = token.slice(0, -6) + (token.endsWith('AAAAAA') ? 'BBBBBB' : 'AAAAAA')
    const before2 = await configListing(h2!)
    const w = await h2!.mccs(['setup', '--join', lab.addr('n1', 0), '--token-file', '-'], { input: wrong })
    t.equal(w.code, 3, 'a wrong token')
    t.match(w.stderr, /--token: .*refused the token/)
    t.equal(await configListing(h2!), before2, 'nothing written on n2')
    const nowhere = await h2!.mccs(['setup', '--join', lab.addr('n1', 0), '--token-file', '-', '--link', 'l0=10.80.0.99'], { input: token })
    t.equal(nowhere.code, 3, 'a link address not on the joining host')
    t.match(nowhere.stderr, /not an address of this host/)
    t.equal(await configListing(h2!), before2, 'nothing written on n2')

    const j = await h2!.mccs(['setup', '--join', lab.addr('n1', 0), '--token-file', '-', '--lang', 'en', '--license', '/root/n2.lic'], {
      input: token,
    })
    t.equal(j.code, 0, `the join: ${j.stderr}`)
    t.match(
      j.stdout,
      new RegExp(
        `joined cluster lab as n2 \\(${lab.addr('n2', 0).replace(/\./g, '\\.')} on l0, ${lab.addr('n2', 1).replace(/\./g, '\\.')} on l1\\)`,
      ),
      'its addresses found by subnet',
    )
    t.equal(await addDone, 0, `mccs node add ends: ${addOut}`)
    t.match(addOut, /n2 joined/)
    t.equal(
      (await h1!.sh('cat /opt/MCCS/config/cluster.key | sha256sum')).stdout,
      (await h2!.sh('cat /opt/MCCS/config/cluster.key | sha256sum')).stdout,
      'n2 has the cluster key',
    )
    t.equal((await h2!.sh('stat -c %a /opt/MCCS/config/cluster.key')).stdout.trim(), '600')
    for (const h of [h1!, h2!]) {
      const hb = JSON.parse((await h.sh('cat /opt/MCCS/config/hb.json')).stdout) as {
        generation: number
        nodes: Array<{ name: string }>
        quorum?: { twoNode?: boolean }
      }
      t.same(
        [hb.generation, hb.nodes.map((n) => n.name), hb.quorum?.twoNode],
        [2, ['n1', 'n2'], true],
        `${h.node}: hb.json generation 2 with both nodes, two-node quorum`,
      )
    }

    // The token is used up: a third host cannot join with it.
    t.equal((await h3!.exec(['dpkg', '-i', deb], { timeoutMs: 300_000 })).code, 0, 'n3 installed')
    const before3 = await configListing(h3!)
    const used = await h3!.mccs(['setup', '--join', lab.addr('n1', 0), '--token-file', '-'], { input: token })
    t.equal(used.code, 3, 'a used token')
    t.match(used.stderr, /a token works once/)
    t.equal(await configListing(h3!), before3, 'nothing written on n3')

    // Agents read hb.json at their start: n1's restarts (graceful), n2's starts, each as the unit says.
    await stopAgent(h1!)
    await startAgent(h1!)
    await startAgent(h2!)
    await until(
      async () => {
        const s = await status(h1!)
        return (s.membership?.quorate && s.membership.partition.join() === 'n1,n2') || undefined
      },
      90_000,
      'n1 and n2 in one quorate partition',
    )
    t.pass('two-node cluster formed')
  })

  t.test('a group moves between the two nodes', async (t) => {
    // n1's graceful stop (SIGTERM) stopped g: a single node had nowhere to move it. That stop is not the
    // operator's word (no offline hold), so g starts again by its autoStart once n1 is back.
    await until(
      async () => (await status(h1!)).groups.find((g) => g.name === 'g')?.nodes.n1 === 'online' || undefined,
      60_000,
      'g online again on n1 by its autoStart',
    )
    t.pass('after the graceful stop and the restart, g started again by its autoStart')
    // A group's node list changes while it is offline.
    await ok(h1!, ['group', 'offline', 'g', '--wait', '--timeout', '60'], 'group offline')
    await ok(h1!, ['group', 'edit', 'g', '--nodes', 'n1,n2'], 'group edit')
    const on = await h2!.mccs(['group', 'online', 'g', '--node', 'n1', '--wait', '--timeout', '60'])
    t.equal(on.code, 0, `online on n1 from n2's command line: ${on.stderr}${on.stdout}`)
    const sw = await h2!.mccs(['group', 'switch', 'g', '--wait', '--timeout', '60'])
    t.equal(sw.code, 0, `switch from n2's command line: ${sw.stderr}`)
    const g = (await status(h2!)).groups.find((x) => x.name === 'g')!
    t.same([g.nodes.n1, g.nodes.n2], ['offline', 'online'], 'g moved to n2')
    const back = await h1!.mccs(['group', 'switch', 'g', '--wait', '--timeout', '60'])
    t.equal(back.code, 0, `and back: ${back.stderr}`)
    t.equal((await status(h1!)).groups.find((x) => x.name === 'g')!.nodes.n1, 'online', 'g back on n1')
  })

  t.test('uninstall keeps config, script, logs and the license; a reinstall uses them; purge removes them', async (t) => {
    // The package: n2 stopped, removed, reinstalled, and back in the cluster with what was kept.
    await stopAgent(h2!)
    // The operator's own mode on a kept folder (config/ closed to other users) survives the reinstall.
    await h2!.sh('chmod 0700 /opt/MCCS/config && chmod 0755 /opt/MCCS/logs')
    const un = await h2!.mccs(['uninstall'])
    t.equal(un.code, 0, `mccs uninstall: ${un.stderr}`)
    t.equal((await h2!.sh('command -v mccs; ls /opt/MCCS/lib 2>&1')).stdout.includes('No such file'), true, 'the program is gone')
    const kept = await h2!.sh('cd /opt/MCCS && ls config/hb.json config/main.json config/cluster.key config/mccs.lic && ls -d script logs')
    t.equal(kept.code, 0, `kept: ${kept.stderr}`)
    const re = await h2!.exec(['dpkg', '-i', deb], { timeoutMs: 300_000 })
    t.equal(re.code, 0, 'reinstalled')
    t.match(re.stdout, /configuration in \/opt\/MCCS\/config was kept and is used/)
    t.equal(
      (await h2!.sh('stat -c %a /opt/MCCS/config /opt/MCCS/logs')).stdout,
      '700\n755\n',
      "the kept folders' modes as the operator left them",
    )
    await startAgent(h2!)
    await until(async () => (await status(h1!)).membership?.partition.join() === 'n1,n2' || undefined, 60_000, 'n2 back in the cluster')
    t.equal((await h2!.mccs(['license', 'show'])).stdout.includes('licensed'), true, 'its license kept')
    await stopAgent(h2!)
    t.equal((await h2!.exec(['dpkg', '--purge', 'mccs'])).code, 0, 'dpkg --purge')
    t.equal((await h2!.sh('ls /opt/MCCS 2>&1')).stdout.includes('No such file'), true, 'purge removes /opt/MCCS')

    // The tarball with install.sh, on n3 (the package removed first).
    t.equal((await h3!.exec(['dpkg', '--purge', 'mccs'])).code, 0)
    const dir = path.join(work, 'unpacked')
    await promisify(execFile)('mkdir', ['-p', dir])
    await promisify(execFile)('tar', ['-xzf', tarball, '-C', dir])
    const top = path.join(dir, (await readdir(dir))[0]!)
    const inst = await h3!.exec([path.join(top, 'install.sh')], { timeoutMs: 300_000 })
    t.equal(inst.code, 0, `install.sh: ${inst.stderr}`)
    t.equal(
      (await h3!.sh('readlink /usr/local/bin/mccs; readlink /etc/systemd/system/multi-user.target.wants/mccs_agent.service')).stdout
        .trim()
        .split('\n')
        .join(' '),
      '/opt/MCCS/bin/mccs /etc/systemd/system/mccs_agent.service',
      'mccs on the PATH, the unit enabled',
    )
    t.equal((await h3!.exec(['systemd-analyze', 'verify', '/etc/systemd/system/mccs_agent.service'])).code, 0, 'the unit verifies')
    await ok(h3!, ['setup', '--mode', 'single', '--name', 'n3', '--cluster', 'solo', '--link', `l0=${lab.addr('n3', 0)}`], 'setup n3')
    await h3!.sh('echo "#!/bin/sh" > /opt/MCCS/script/mine.sh')
    const single = await h3!.mccs(['node', 'add', 'n4', '--timeout', '5'])
    t.equal(single.code, 3, 'a single-node cluster takes no other node')
    t.match(single.stderr, /single-node cluster/)
    const u3 = await h3!.exec(['/opt/MCCS/uninstall'])
    t.equal(u3.code, 0, `/opt/MCCS/uninstall (the manual's uninstaller): ${u3.stderr}`)
    t.equal(
      (await h3!.sh('ls /opt/MCCS; command -v mccs')).stdout.trim().split('\n').sort().join(' '),
      'config logs plugins script state',
      'program gone, folders kept',
    )
    t.equal(
      // n3 was set up in Korean (the default): the installer speaks the product's language.
      (await h3!.exec([path.join(top, 'install.sh')], { timeoutMs: 300_000 })).stdout.includes(
        '/opt/MCCS/config에 남아 있던 구성을 씁니다',
      ),
      true,
      'a reinstall reuses it',
    )
    // The host was set up in Korean (the installer's default): the command speaks it (유효함 = valid).
    t.match(await ok(h3!, ['config', 'validate'], 'validate'), /^유효함: /)
    t.equal((await h3!.sh('cat /opt/MCCS/script/mine.sh')).stdout.trim(), '#!/bin/sh', 'scripts kept')
    t.equal((await h3!.mccs(['uninstall', '--purge'])).code, 0, 'mccs uninstall --purge')
    t.equal((await h3!.sh('ls /opt/MCCS 2>&1')).stdout.includes('No such file'), true, 'purge removes /opt/MCCS')
  })
}
