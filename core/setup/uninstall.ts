// `mccs uninstall [--purge]` (and /opt/MCCS/uninstall, the manual's uninstaller, 4.2.5.2): removes the
// program the way it was installed, so the package manager's records stay true — dpkg for the Debian
// package, the shipped install.sh for the tarball. Both keep config/ (main.json, hb.json, the cluster key,
// the license mccs.lic), script/, logs/, plugins/ and state/ unless --purge: a reinstall finds them and
// the node is what it was (manual 5.5: upgrade by reinstalling over the kept folder).
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { packageRoot } from '../paths.js'
import { MccsError } from '../errors.js'

export type InstallKind = 'deb' | 'tarball'

/** How this mccs was installed (the INSTALLED file the package writes), or null from a source tree. */
export function installKind(root = packageRoot()): InstallKind | null {
  try {
    const k = readFileSync(path.join(root, 'INSTALLED'), 'utf8').trim()
    return k === 'deb' || k === 'tarball' ? k : null
  } catch {
    return null
  }
}

/** The command that removes this installation. */
export function uninstallArgv(o: { purge: boolean; root?: string }): string[] {
  const root = o.root ?? packageRoot()
  const kind = installKind(root)
  if (!kind) {
    throw new MccsError(
      'MCCS_ERR_CONFLICT',
      `this mccs runs from ${root}, which is not an installed package (a source tree): there is nothing to uninstall`,
      { subject: root },
    )
  }
  return kind === 'deb'
    ? ['dpkg', o.purge ? '--purge' : '--remove', 'mccs']
    : ['/bin/sh', path.join(root, 'scripts/install.sh'), '--uninstall', ...(o.purge ? ['--purge'] : [])]
}
