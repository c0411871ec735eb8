// install.sh speaks Korean or English (issue 18, What 8; manual 3.2.1: the installer offers Korean and English,
// Korean by default, and that choice becomes the product's language); its texts are checked by
// test/i18n/installer-and-guide.test.ts. Here the script runs for real on a clean host (test/install/host.ts:
// /opt, /usr, /etc are overlays in a mount namespace of its own) with a minimal payload beside it: --lang ko
// and --lang en, asked on a terminal, Korean when nothing says otherwise, the language setup recorded on a
// reinstall and an uninstall, and MCCS_LANG (what `mccs uninstall` hands on); the setup command it prints
// carries the language.
import t from 'tap'
import { existsSync, readFileSync } from 'node:fs'
import { chmod, mkdir, mkdtemp, rm, writeFile, copyFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { packageRoot } from '../../core/paths.js'
import { createLab, labAvailable, type Lab } from '../../scripts/lab/lab.js'
import { Host } from './host.js'

const root = packageRoot()

const avail = await labAvailable()
const missing = ['nsenter', 'unshare', 'script'].filter(
  (b) => !['/usr/bin', '/bin', '/usr/sbin', '/sbin'].some((d) => existsSync(path.join(d, b))),
)
const overlay = existsSync('/proc/filesystems') && readFileSync('/proc/filesystems', 'utf8').includes('overlay')
const skip = !avail.ok
  ? `network-namespace lab unavailable: ${avail.reason}`
  : missing.length
    ? `missing ${missing.join(', ')}`
    : !overlay
      ? 'no overlayfs'
      : undefined

if (skip) {
  t.test('install.sh in Korean and English on a clean host', { skip }, async () => {})
} else {
  t.test('install.sh in Korean and English on a clean host', async (t) => {
    const work = await mkdtemp(path.join(os.tmpdir(), 'mccs-install-lang-'))
    const lab: Lab = await createLab({ prefix: `mccs${process.pid}l-`, nodes: 1, links: 1 })
    let host: Host | undefined
    t.teardown(async () => {
      await host?.destroy()
      await lab.destroy()
      await rm(work, { recursive: true, force: true })
    })
    // A minimal payload: what install.sh checks and copies (the program itself is not run here).
    const top = path.join(work, 'mccs')
    const h = path.join(top, 'payload/opt/MCCS')
    for (const d of ['lib/node/bin', 'lib/mccs/dist', 'lib/mccs/config-templates', 'bin']) await mkdir(path.join(h, d), { recursive: true })
    await writeFile(path.join(h, 'lib/node/bin/node'), '#!/bin/sh\nexit 0\n')
    await chmod(path.join(h, 'lib/node/bin/node'), 0o755)
    await writeFile(path.join(h, 'lib/mccs/dist/mccs.js'), '')
    for (const f of ['mccs.config.json', 'mccs_agent.service', 'logrotate.mccs'])
      await copyFile(path.join(root, 'config', f), path.join(h, 'lib/mccs/config-templates', f))
    await writeFile(path.join(h, 'bin/mccs'), '#!/bin/sh\nexit 0\n')
    await writeFile(path.join(h, 'uninstall'), '#!/bin/sh\nexit 0\n')
    await copyFile(path.join(root, 'scripts/install.sh'), path.join(top, 'install.sh'))
    await chmod(path.join(top, 'install.sh'), 0o755)
    host = await Host.create(lab, 'n1')
    const inst = path.join(top, 'install.sh')
    const run = async (args: string[], env: string[] = []) => {
      const r = await host!.exec([inst, ...args], { env })
      return { code: r.code, out: r.stdout.trim(), err: r.stderr.trim() }
    }

    // No --lang, no terminal, nothing recorded: Korean, the manual's default.
    let r = await run(['--no-enable'])
    t.equal(r.code, 0, r.err)
    t.equal(
      r.out,
      "MCCS를 /opt/MCCS에 설치했습니다: 'mccs setup --lang ko'(또는 'mccs setup --join <멤버> --token <토큰> --lang ko')을 실행한 다음 systemctl start mccs_agent",
      'Korean by default, and setup is told the language',
    )
    r = await run(['--no-enable', '--lang', 'en'])
    t.equal(
      r.out,
      "MCCS installed in /opt/MCCS: run 'mccs setup --lang en' (or 'mccs setup --join <member> --token <t> --lang en'), then systemctl start mccs_agent",
      '--lang en: English',
    )
    // Asked on a terminal: the answer is the installer's language and the one it hands on.
    const tty = await host.exec(['script', '-qec', `${inst} --no-enable`, '/dev/null'], { input: 'en\n' })
    t.match(tty.stdout, /Language \/ 언어 \(ko: 한국어, en: English\) \[ko\]: /, 'the question, in both languages')
    t.match(tty.stdout, /MCCS installed in \/opt\/MCCS: run 'mccs setup --lang en'/, 'answered en: English from then on')
    const tty2 = await host.exec(['script', '-qec', `${inst} --no-enable`, '/dev/null'], { input: 'fr\n\n' })
    t.match(
      tty2.stdout,
      /language: 'fr'은\(는\) MCCS가 제공하는 언어가 아닙니다[\s\S]*\[ko\]: [\s\S]*'mccs setup --lang ko'/,
      'a wrong answer is said and asked again; Enter is Korean',
    )

    // Set up in English (the record mccs setup writes): a reinstall and an uninstall speak it without --lang.
    await host.sh(
      `printf '{\\n  "language": "en",\\n  "mode": "cluster"\\n}\\n' > /opt/MCCS/config/setup.json; echo '{}' > /opt/MCCS/config/hb.json`,
    )
    r = await run(['--no-enable'])
    t.equal(
      r.out,
      'MCCS installed in /opt/MCCS; the configuration kept in /opt/MCCS/config is used: systemctl start mccs_agent',
      "a reinstall: the product's language",
    )
    r = await run(['--no-enable', '--lang', 'ko'])
    t.equal(r.out, 'MCCS를 /opt/MCCS에 설치했습니다; /opt/MCCS/config에 남아 있던 구성을 씁니다: systemctl start mccs_agent', '--lang wins')
    r = await run(['--uninstall'], ['MCCS_LANG=ko'])
    t.equal(
      r.out,
      'MCCS를 제거했습니다; /opt/MCCS/config(main.json, hb.json, 클러스터 키, 라이선스), script, logs, plugins, state는 남겼습니다: 다시 설치하면 이것을 씁니다',
      'MCCS_LANG (mccs uninstall --lang ko)',
    )
    r = await run(['--no-enable'])
    r = await run(['--uninstall', '--purge'])
    t.equal(r.out, 'MCCS removed with its configuration, scripts, logs and state (purge)', 'an uninstall in the recorded language')

    // Refusals, in the language they are given in; nothing installed by them.
    r = await run(['--lang', 'fr'])
    t.equal(r.code, 1)
    t.equal(r.err, "install.sh: --lang: 'fr'은(는) MCCS가 제공하는 언어가 아닙니다: ko(한국어, 기본값) 또는 en(영어)")
    r = await run(['--bogus', '--lang', 'en'])
    t.equal(r.err, 'install.sh: unknown option --bogus (see --help)')
    r = await run(['--bogus'])
    t.equal(r.err, 'install.sh: 알 수 없는 옵션 --bogus (--help 참고)')
    t.equal((await host.sh('test -e /opt/MCCS/bin/mccs && echo yes || echo no')).stdout.trim(), 'no', 'a refusal installed nothing')
    r = await run(['--help'])
    t.match(r.out, /^사용법: \.\/install\.sh \[--lang ko\|en\]/)
    r = await run(['--help'], ['MCCS_LANG=en'])
    t.match(r.out, /^usage: \.\/install\.sh \[--lang ko\|en\]/)
  })
}
