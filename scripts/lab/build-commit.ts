// The build of an earlier commit, for mixed-version and upgrade tests (test/cluster/config-mixed-versions.test.ts;
// artifact.ts packages it for test/cluster/rolling-upgrade.test.ts): its source from git (`git archive`), this checkout's
// node_modules, its own `scripts/build.ts` run to make its dist/ and plugins. Cached per commit in
// <tmp>/mccs-build-<sha>/ (a build takes a minute; the tests of one run share it): made in a folder of its
// own and renamed into place when complete, so a test never uses a half-made build, and two tests building
// the same commit at once each finish with a complete one. Remove the folder to rebuild.
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readlink, rename, rm, symlink } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { packageRoot } from '../../core/paths.js'

const run = promisify(execFile)

/** The full commit id of `rev` in this checkout, or null when it is not there (a clone without history). */
export async function commitOf(rev: string, root = packageRoot()): Promise<string | null> {
  return run('git', ['-C', root, 'rev-parse', '--verify', '--quiet', `${rev}^{commit}`]).then(
    (r) => r.stdout.trim() || null,
    () => null,
  )
}

/** Builds commit `rev` (or finds it built) and returns the folder holding its dist/ and plugins. */
export async function buildCommit(rev: string, root = packageRoot()): Promise<string> {
  const sha = await commitOf(rev, root)
  if (!sha) throw new Error(`commit ${rev} is not in ${root} (no git history?)`)
  const dir = path.join(os.tmpdir(), `mccs-build-${sha}`)
  if (existsSync(path.join(dir, 'dist/mccs.js'))) {
    // A cached build links the node_modules of the checkout that made it, which may be gone since (a
    // removed worktree: the old agent then could not start, and config-mixed-versions timed out waiting
    // for it). Point it at this checkout's, atomically (another test may be reading it).
    const link = path.join(dir, 'node_modules')
    const want = path.join(root, 'node_modules')
    if ((await readlink(link).catch(() => null)) !== want || !existsSync(link)) {
      const tmp = `${link}.${process.pid}.${Date.now()}`
      await symlink(want, tmp)
      await rename(tmp, link)
    }
    return dir
  }
  const work = await mkdtemp(path.join(os.tmpdir(), `mccs-building-${sha.slice(0, 12)}-`))
  try {
    await run('sh', ['-c', 'git -C "$1" archive "$2" | tar -x -C "$3"', 'sh', root, sha, work])
    await symlink(path.join(root, 'node_modules'), path.join(work, 'node_modules'))
    await run(process.execPath, ['--import', 'tsx', 'scripts/build.ts'], { cwd: work, timeout: 300_000 })
    if (!existsSync(path.join(work, 'dist/mccs.js'))) throw new Error(`the build of ${rev} made no dist/mccs.js`)
    await rename(work, dir).catch((e: NodeJS.ErrnoException) => {
      // Another test finished the same build first: use that one.
      if (!existsSync(path.join(dir, 'dist/mccs.js'))) throw e
    })
  } finally {
    await rm(work, { recursive: true, force: true })
  }
  return dir
}
