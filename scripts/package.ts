// npm run package: the release artifacts an operator installs on a host with no compiler and no npm.
//   node --import tsx scripts/package.ts [--out <dir>] [--no-build] [--fast]
// --fast compresses with gzip -1 instead of dpkg-deb -9 / gzip -6 (the same files, 10 % larger, a quarter of
// the CPU: 5 s user instead of 22 s here): for the tests that install this checkout's artifacts
// (scripts/lab/artifact.ts), never for a release.
// Writes <out>/mccs_<version>_<arch>.deb (dpkg-deb) and <out>/mccs-<version>-linux-<arch>.tar.gz (with
// install.sh, for other distributions); <out> defaults to ./release.
//
// Layout on the host (the manual's MCCS home, /opt/MCCS):
//   /opt/MCCS/config script logs plugins state   the operator's folders: made at install, kept at uninstall
//   /opt/MCCS/bin/mccs                           the command (also /usr/bin/mccs, or /usr/local/bin/mccs from the tarball)
//   /opt/MCCS/uninstall                          the manual's uninstaller (4.2.5.2): mccs uninstall
//   /opt/MCCS/lib/mccs/                          the program: dist/, the built-in plugins, production node_modules
//   /opt/MCCS/lib/node/bin/node                  the runtime
//   mccs_agent.service                           the systemd unit (/lib/systemd/system, or /etc/systemd/system), enabled
//
// The runtime travels with the program. MCCS needs Node >= 20.10 (package.json engines) and Debian 12's
// nodejs is 18.20; isolated-vm's native module is built for one Node ABI (process.versions.modules), so the
// node binary it was built against ships beside it and nothing on the host can break the pair. The package
// depends only on the C/C++ runtime libraries that node and the module link to, and on the host tools MCCS
// calls (openssl for the console's certificate, iproute2 for the network types, util-linux for setsid).
import { execFileSync } from 'node:child_process'
import {
  chmodSync,
  copyFileSync,
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const PREFIX = '/opt/MCCS'
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as {
  name: string
  version: string
  description: string
  dependencies: Record<string, string>
}

const fast = process.argv.includes('--fast')

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name)
  return i > 0 ? process.argv[i + 1] : undefined
}

const sh = (cmd: string, args: string[], cwd = root): string =>
  execFileSync(cmd, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] })

/** The production dependency closure of the root package (workspaces' tools excluded), as package folders. */
function productionPackages(): string[] {
  const seen = new Set<string>()
  const visit = (name: string, from: string): void => {
    let dir: string | undefined
    for (let d = from; ; d = path.dirname(d)) {
      const cand = path.join(d, 'node_modules', name)
      if (existsSync(path.join(cand, 'package.json'))) {
        dir = cand
        break
      }
      if (d === root || path.dirname(d) === d) break
    }
    if (!dir)
      throw new Error(`production dependency ${name} (needed by ${path.relative(root, from) || 'mccs'}) is not installed: run npm ci first`)
    if (seen.has(dir)) return
    seen.add(dir)
    if (name === 'isolated-vm') return // its only dependency (prebuild-install) is for installing, not running
    const p = JSON.parse(readFileSync(path.join(dir, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>
      optionalDependencies?: Record<string, string>
      peerDependencies?: Record<string, string>
      peerDependenciesMeta?: Record<string, { optional?: boolean }>
    }
    for (const d of Object.keys({ ...p.dependencies, ...p.optionalDependencies })) {
      try {
        visit(d, dir)
      } catch (e) {
        if (!p.optionalDependencies?.[d]) throw e
      }
    }
    // An optional peer (cosmiconfig's typescript, for .ts settings files MCCS never loads) stays out.
    for (const d of Object.keys(p.peerDependencies ?? {})) if (!p.peerDependenciesMeta?.[d]?.optional) visit(d, dir)
  }
  for (const d of Object.keys(pkg.dependencies)) visit(d, root)
  return [...seen].sort()
}

function copyPackage(dir: string, dest: string): void {
  const to = path.join(dest, path.relative(root, dir))
  if (path.basename(dir) === 'isolated-vm') {
    // The compiled module and its loader; not the C++ sources or the build's intermediate files.
    mkdirSync(path.join(to, 'out'), { recursive: true })
    for (const f of ['package.json', 'isolated-vm.js', 'include.js', 'isolated-vm.d.ts', 'LICENSE'])
      if (existsSync(path.join(dir, f))) copyFileSync(path.join(dir, f), path.join(to, f))
    copyFileSync(path.join(dir, 'out/isolated_vm.node'), path.join(to, 'out/isolated_vm.node'))
    return
  }
  // Nested node_modules are separate packages of the closure (copied when they are in it).
  cpSync(dir, to, {
    recursive: true,
    dereference: true,
    filter: (src) => !(src !== dir && path.basename(src) === 'node_modules' && path.dirname(src) === dir),
  })
}

function write(file: string, text: string, mode = 0o644): void {
  mkdirSync(path.dirname(file), { recursive: true })
  writeFileSync(file, text)
  chmodSync(file, mode)
}

/** The program and runtime under <stage>/opt/MCCS (what both artifacts carry). */
function stageProgram(stage: string, kind: 'deb' | 'tarball'): void {
  const home = path.join(stage, PREFIX.slice(1))
  const lib = path.join(home, 'lib/mccs')
  mkdirSync(lib, { recursive: true })
  write(
    path.join(lib, 'package.json'),
    JSON.stringify(
      {
        name: pkg.name,
        version: pkg.version,
        description: pkg.description,
        type: 'module',
        private: true,
        license: 'Apache-2.0',
        mccsPluginApi: (JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { mccsPluginApi: string }).mccsPluginApi,
      },
      null,
      2,
    ) + '\n',
  )
  cpSync(path.join(root, 'dist'), path.join(lib, 'dist'), { recursive: true, filter: (src) => !src.endsWith('.map') })
  write(path.join(lib, 'bin/mccs.cjs'), readFileSync(path.join(root, 'bin/mccs.cjs'), 'utf8'), 0o755)
  write(path.join(lib, 'bin/mccs-fast.pl'), readFileSync(path.join(root, 'bin/mccs-fast.pl'), 'utf8'), 0o755)
  // Built-in plugins: manifest and bundle (the sandbox loads dist/ only).
  for (const name of readdirNames(path.join(root, 'plugins'))) {
    const src = path.join(root, 'plugins', name)
    if (!existsSync(path.join(src, 'plugin.json'))) continue
    mkdirSync(path.join(lib, 'plugins', name), { recursive: true })
    copyFileSync(path.join(src, 'plugin.json'), path.join(lib, 'plugins', name, 'plugin.json'))
    if (existsSync(path.join(src, 'dist')))
      cpSync(path.join(src, 'dist'), path.join(lib, 'plugins', name, 'dist'), { recursive: true, filter: (s) => !s.endsWith('.map') })
    // Its own wizard labels and help per language (manifest `locales`).
    if (existsSync(path.join(src, 'locales')))
      cpSync(path.join(src, 'locales'), path.join(lib, 'plugins', name, 'locales'), { recursive: true })
  }
  for (const dir of productionPackages()) copyPackage(dir, lib)
  mkdirSync(path.join(lib, 'config-templates'), { recursive: true })
  for (const f of ['mccs_agent.service', 'logrotate.mccs', 'mccs.config.json'])
    copyFileSync(path.join(root, 'config', f), path.join(lib, 'config-templates', f))
  write(path.join(lib, 'scripts/install.sh'), readFileSync(path.join(root, 'scripts/install.sh'), 'utf8'), 0o755)
  write(path.join(lib, 'INSTALLED'), `${kind}\n`)
  // The runtime: this node binary, the one isolated-vm's module was built against.
  const node = realpathSync(process.execPath)
  mkdirSync(path.join(home, 'lib/node/bin'), { recursive: true })
  copyFileSync(node, path.join(home, 'lib/node/bin/node'))
  chmodSync(path.join(home, 'lib/node/bin/node'), 0o755)
  write(path.join(home, 'lib/node/VERSION'), `${process.version} (modules ABI ${process.versions.modules})\n`)
  write(
    path.join(home, 'bin/mccs'),
    // Status and the operator commands go to bin/mccs-fast.pl first: the agent answers them, no Node starts
    // (issue 19, What 2); it runs the Node entry for anything else, as this does where perl is missing.
    // bin/mccs.cjs runs those commands in its own process (the thin entry) and every other command with
    // --no-node-snapshot, which isolated-vm needs.
    `#!/bin/sh\n# The mccs command of this installation.\n` +
      `if [ -x /usr/bin/perl ]; then exec /usr/bin/perl ${PREFIX}/lib/mccs/bin/mccs-fast.pl ${PREFIX}/lib/node/bin/node ${PREFIX}/lib/mccs/bin/mccs.cjs "$@"; fi\n` +
      `exec ${PREFIX}/lib/node/bin/node ${PREFIX}/lib/mccs/bin/mccs.cjs "$@"\n`,
    0o755,
  )
  write(
    path.join(home, 'uninstall'),
    `#!/bin/sh\n# Removes MCCS and keeps config/, script/, logs/, plugins/, state/ and the license; --purge removes them too.\nexec ${PREFIX}/bin/mccs uninstall "$@"\n`,
    0o755,
  )
}

function readdirNames(d: string): string[] {
  return existsSync(d) ? execFileSync('ls', ['-1', d], { encoding: 'utf8' }).split('\n').filter(Boolean) : []
}

function checkRuntime(): void {
  const major = Number(process.versions.node.split('.')[0])
  if (major !== 20 && major < 22) throw new Error(`package with Node 20 or 22+ (this is ${process.version}): the runtime is shipped`)
  if (!existsSync(path.join(root, 'node_modules/isolated-vm/out/isolated_vm.node'))) throw new Error('isolated-vm is not built (npm ci)')
  // The module must load in this very node: then it loads in the copy shipped beside it.
  execFileSync(process.execPath, ['--no-node-snapshot', '-e', "require('isolated-vm')"], { cwd: root, stdio: 'inherit' })
}

/** What the maintainer scripts say, in Korean or English as install.sh does: MCCS_LANG (dpkg passes its
 *  environment on; mccs uninstall sets it), else the language this node was set up with, else Korean (the
 *  manual's installer default). say KEY [ARG...] prints the key's text in $L, a printf format. Both
 *  languages of every key: test/i18n/installer-and-guide.test.ts. */
const DEB_SAY = `case "$(printf '%s' "\${MCCS_LANG:-}" | tr 'A-Z' 'a-z')" in
  en*) L=en ;;
  ko*) L=ko ;;
  *) if grep -qs '"language" *: *"en"' "$H/config/setup.json"; then L=en; else L=ko; fi ;;
esac
msg() {
  case "$L:$1" in
    en:kept) printf '%s' 'MCCS: the configuration in %s/config was kept and is used (systemctl start mccs_agent)' ;;
    ko:kept) printf '%s' 'MCCS: %s/config의 구성을 남겨 두었으며 그대로 씁니다 (systemctl start mccs_agent)' ;;
    en:installed) printf '%s' "MCCS installed: run 'mccs setup' (or 'mccs setup --join <member> --token <t>'), then systemctl start mccs_agent" ;;
    ko:installed) printf '%s' "MCCS를 설치했습니다: 'mccs setup'(또는 'mccs setup --join <멤버> --token <토큰>')을 실행한 다음 systemctl start mccs_agent" ;;
    en:removed) printf '%s' 'MCCS removed; kept %s/config, script, logs, plugins, state (a reinstall uses them; dpkg --purge mccs removes them)' ;;
    ko:removed) printf '%s' 'MCCS를 제거했습니다; %s/config, script, logs, plugins, state는 남겼습니다 (다시 설치하면 이것을 씁니다; dpkg --purge mccs는 이것도 지웁니다)' ;;
    *) printf '%s' "$1" ;;
  esac
}
say() { k=$1; shift; printf "$(msg "$k")\\n" "$@"; }
`

export const DEB_SCRIPTS = {
  postinst: `#!/bin/sh
# mccs postinst: the operator's folders (kept from an earlier install if there), the unit enabled.
set -e
H=${PREFIX}
${DEB_SAY}if [ "$1" = configure ]; then
  # A folder kept from an earlier install keeps the modes its operator gave it (as install.sh): only a
  # folder made here gets the default.
  mk() { [ -d "$H/$1" ] || install -d -m "$2" "$H/$1"; }
  mk config 0755; mk script 0755; mk plugins 0755; mk logs 0750; mk state 0700
  [ -e "$H/config/mccs.config.json" ] || install -m 0644 "$H/lib/mccs/config-templates/mccs.config.json" "$H/config/mccs.config.json"
  if command -v deb-systemd-helper >/dev/null 2>&1; then deb-systemd-helper enable mccs_agent.service >/dev/null || true
  else mkdir -p /etc/systemd/system/multi-user.target.wants; ln -sf /lib/systemd/system/mccs_agent.service /etc/systemd/system/multi-user.target.wants/mccs_agent.service; fi
  if [ -d /run/systemd/system ]; then
    systemctl daemon-reload >/dev/null || true
    # A reinstall that kept this node's configuration starts its agent again; a first install waits for mccs setup.
    if [ -e "$H/config/hb.json" ]; then systemctl restart mccs_agent.service || true; fi
  fi
  if [ -e "$H/config/hb.json" ]; then say kept "$H"
  else say installed; fi
fi
exit 0
`,
  prerm: `#!/bin/sh
# mccs prerm: the agent stops before its program goes (the services it started keep running: KillMode=process).
set -e
if [ -d /run/systemd/system ] && [ "$1" = remove ]; then systemctl stop mccs_agent.service >/dev/null 2>&1 || true; fi
exit 0
`,
  postrm: `#!/bin/sh
# mccs postrm: remove keeps config/, script/, logs/, plugins/, state/ (and the license in config/);
# purge removes them and the unit's enablement.
set -e
H=${PREFIX}
${DEB_SAY}if [ -d /run/systemd/system ]; then systemctl daemon-reload >/dev/null 2>&1 || true; fi
case "$1" in
  remove)
    say removed "$H" ;;
  purge)
    if command -v deb-systemd-helper >/dev/null 2>&1; then deb-systemd-helper purge mccs_agent.service >/dev/null 2>&1 || true; fi
    rm -f /etc/systemd/system/multi-user.target.wants/mccs_agent.service
    for d in config script logs plugins state; do rm -rf "$H/$d"; done
    rmdir "$H/lib" "$H" 2>/dev/null || true ;;
esac
exit 0
`,
}

function buildDeb(out: string, arch: string): string {
  const stage = path.join(out, '.stage-deb')
  rmSync(stage, { recursive: true, force: true })
  stageProgram(stage, 'deb')
  write(path.join(stage, 'lib/systemd/system/mccs_agent.service'), readFileSync(path.join(root, 'config/mccs_agent.service'), 'utf8'))
  write(path.join(stage, 'etc/logrotate.d/mccs'), readFileSync(path.join(root, 'config/logrotate.mccs'), 'utf8'))
  mkdirSync(path.join(stage, 'usr/bin'), { recursive: true })
  execFileSync('ln', ['-s', `${PREFIX}/bin/mccs`, path.join(stage, 'usr/bin/mccs')])
  const size = Number(sh('du', ['-sk', stage]).split('\t')[0])
  write(
    path.join(stage, 'DEBIAN/control'),
    [
      `Package: mccs`,
      `Version: ${pkg.version}`,
      `Architecture: ${arch}`,
      `Maintainer: MCCS project <mccs@localhost>`,
      `Installed-Size: ${size}`,
      // node and isolated_vm.node link only to these (ldd); openssl, iproute2, util-linux are commands MCCS runs.
      `Depends: libc6 (>= 2.28), libstdc++6 (>= 10), libgcc-s1, openssl, iproute2, util-linux`,
      `Section: admin`,
      `Priority: optional`,
      `Homepage: https://github.com/mccs`,
      `Description: ${pkg.description}`,
      ` The MCCS agent (systemd unit mccs_agent), the mccs command, the built-in resource types and the`,
      ` web console, with the Node.js ${process.version} runtime they run on, under ${PREFIX}.`,
      '',
    ].join('\n'),
  )
  write(path.join(stage, 'DEBIAN/conffiles'), '/etc/logrotate.d/mccs\n')
  for (const [n, text] of Object.entries(DEB_SCRIPTS)) write(path.join(stage, 'DEBIAN', n), text, 0o755)
  const file = path.join(out, `mccs_${pkg.version}_${arch}.deb`)
  sh('dpkg-deb', ['--root-owner-group', '-Zgzip', ...(fast ? ['-z1'] : []), '--build', stage, file])
  rmSync(stage, { recursive: true, force: true })
  return file
}

function buildTarball(out: string, arch: string): string {
  const name = `mccs-${pkg.version}-linux-${arch}`
  const stage = path.join(out, '.stage-tar')
  rmSync(stage, { recursive: true, force: true })
  const top = path.join(stage, name)
  stageProgram(path.join(top, 'payload'), 'tarball')
  // install.sh copies payload/opt/MCCS/{lib,bin,uninstall}; the unit and logrotate file come from lib/mccs/config-templates.
  write(path.join(top, 'install.sh'), readFileSync(path.join(root, 'scripts/install.sh'), 'utf8'), 0o755)
  write(
    path.join(top, 'README'),
    `MCCS ${pkg.version} for Linux (${arch}), with its Node.js ${process.version} runtime.\n\n  sudo ./install.sh                 install under ${PREFIX}, enable mccs_agent, put mccs on the PATH\n  sudo mccs setup                   first node (or: mccs setup --join <member> --token <t>)\n  sudo systemctl start mccs_agent\n  sudo ${PREFIX}/uninstall [--purge]  remove (keeps config, script, logs unless --purge)\n\nSee docs/install.md in the source tree.\n`,
  )
  const file = path.join(out, `${name}.tar.gz`)
  sh('tar', ['--owner=0', '--group=0', '--numeric-owner', '-C', stage, ...(fast ? ['-I', 'gzip -1', '-cf'] : ['-czf']), file, name])
  rmSync(stage, { recursive: true, force: true })
  return file
}

export async function packageAll(o: { out: string; build: boolean }): Promise<{ deb: string; tarball: string }> {
  checkRuntime()
  if (o.build) await (await import('./build.js')).buildAll()
  if (!existsSync(path.join(root, 'dist/mccs.js'))) throw new Error('dist/mccs.js is missing: npm run build')
  mkdirSync(o.out, { recursive: true })
  const arch = sh('dpkg', ['--print-architecture']).trim() || (os.arch() === 'x64' ? 'amd64' : os.arch())
  const deb = buildDeb(o.out, arch)
  const tarball = buildTarball(o.out, arch)
  return { deb, tarball }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const out = path.resolve(arg('--out') ?? path.join(root, 'release'))
  const r = await packageAll({ out, build: !process.argv.includes('--no-build') })
  for (const f of [r.deb, r.tarball]) process.stdout.write(`${f}  (${(statSync(f).size / 1048576).toFixed(1)} MiB)\n`)
}
