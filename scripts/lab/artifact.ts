// Release artifacts for upgrade tests (test/cluster/rolling-upgrade.test.ts): what `npm run package`
// (scripts/package.ts) makes, for an earlier commit or for this checkout. An earlier commit's artifact is
// made by that commit's own package script over its build (build-commit.ts) and cached per commit in
// <tmp>/mccs-artifact-<sha>/ (packaging copies ~150 MB and compresses it: minutes on a loaded machine),
// made in a folder of its own and renamed into place when complete, as build-commit.ts does. Remove the
// folder to rebuild. This checkout's is cached by a hash of what it is made of (dist/, plugins, the package
// script and templates, the lock file, the runtime), so reruns on the same source package once.
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createHash } from 'node:crypto'
import { mkdtemp, readdir, readFile, rename, rm, stat, utimes } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import { packageRoot } from '../../core/paths.js'
import { buildCommit, commitOf } from './build-commit.js'

const run = promisify(execFile)

export interface Artifact {
  /** mccs_<version>_<arch>.deb */
  deb: string
  /** mccs-<version>-linux-<arch>.tar.gz (with install.sh) */
  tarball: string
}

async function found(dir: string): Promise<Artifact | null> {
  const files = await readdir(dir).catch(() => [] as string[])
  const deb = files.find((f) => f.endsWith('.deb'))
  const tarball = files.find((f) => f.endsWith('.tar.gz'))
  return deb && tarball ? { deb: path.join(dir, deb), tarball: path.join(dir, tarball) } : null
}

/** Runs the package script of the tree at `src` (its dist/ already built) into `out`. */
async function packageTree(src: string, out: string, fast = false): Promise<Artifact> {
  // No NODE_OPTIONS: a test runner's loaders must not leak into the packaging process.
  await run(process.execPath, ['--import', 'tsx', 'scripts/package.ts', '--out', out, '--no-build', ...(fast ? ['--fast'] : [])], {
    cwd: src,
    env: { ...process.env, NODE_OPTIONS: '' },
    maxBuffer: 1 << 24,
    timeout: 900_000,
  })
  const a = await found(out)
  if (!a) throw new Error(`the package script of ${src} made no .deb and .tar.gz in ${out}`)
  return a
}

/** What this checkout's artifact is made of (scripts/package.ts's inputs), as a hash: the built program,
 *  the packaging scripts and templates, the lock file (the production node_modules) and the runtime. */
async function treeHash(root: string): Promise<string> {
  const h = createHash('sha256')
  const files: string[] = []
  const walk = async (rel: string): Promise<void> => {
    const st = await stat(path.join(root, rel)).catch(() => null)
    if (!st) return
    if (!st.isDirectory()) return void files.push(rel)
    for (const e of (await readdir(path.join(root, rel))).sort())
      if (e !== 'node_modules' && !e.endsWith('.map')) await walk(path.join(rel, e))
  }
  for (const rel of [
    'dist',
    'plugins',
    'bin/mccs.cjs',
    'config',
    'scripts/package.ts',
    'scripts/install.sh',
    'package.json',
    'package-lock.json',
  ])
    await walk(rel)
  for (const rel of files.filter((f) => !f.startsWith('plugins/') || /^plugins\/[^/]+\/(plugin\.json|dist\/|locales\/)/.test(f)))
    h.update(`${rel}\0`)
      .update(await readFile(path.join(root, rel)))
      .update('\0')
  h.update(`${process.version} ${process.versions.modules}`)
  return h.digest('hex').slice(0, 24)
}

/** This checkout's artifacts (its dist/ as built by npm run build), cached by what they are made of in
 *  <tmp>/mccs-artifact-tree-<hash>/ (the build is deterministic: the same source makes the same dist). */
export async function packageCheckout(root = packageRoot()): Promise<Artifact> {
  if (!existsSync(path.join(root, 'dist/mccs.js'))) throw new Error('dist/mccs.js is missing: npm run build')
  // Each source change makes another (~110 MB): those of checkouts not packaged for a day go.
  for (const e of await readdir(os.tmpdir()))
    if (e.startsWith('mccs-artifact-tree-')) {
      const st = await stat(path.join(os.tmpdir(), e)).catch(() => null)
      if (st && Date.now() - st.mtimeMs > 86_400_000) await rm(path.join(os.tmpdir(), e), { recursive: true, force: true })
    }
  // gzip -1 (--fast): the same files as a release, for a fraction of the CPU (the suite's longest step).
  return cached(`mccs-artifact-tree-${await treeHash(root)}`, (work) => packageTree(root, work, true))
}

/** The artifact in <tmp>/<name>, made by `make` into a folder of its own when absent and renamed into
 *  place when complete (a test never uses a half-made one). */
async function cached(name: string, make: (work: string) => Promise<Artifact>): Promise<Artifact> {
  const dir = path.join(os.tmpdir(), name)
  const have = await found(dir)
  if (have) {
    const now = new Date()
    await utimes(dir, now, now).catch(() => {}) // in use: not pruned
    return have
  }
  const work = await mkdtemp(path.join(os.tmpdir(), `${name}.making-`))
  try {
    await make(work)
    await rename(work, dir).catch(async (e: NodeJS.ErrnoException) => {
      // Another test finished the same artifact first: use that one.
      if (!(await found(dir))) throw e
    })
  } finally {
    await rm(work, { recursive: true, force: true })
  }
  const a = await found(dir)
  if (!a) throw new Error(`no artifact in ${dir}`)
  return a
}

/** The artifacts of commit `rev`, made by its own package script (or found made). */
export async function packageCommit(rev: string, root = packageRoot()): Promise<Artifact> {
  const sha = await commitOf(rev, root)
  if (!sha) throw new Error(`commit ${rev} is not in ${root} (no git history?)`)
  const name = `mccs-artifact-${sha}`
  const have = await found(path.join(os.tmpdir(), name))
  if (have) return have
  const src = await buildCommit(sha, root)
  if (!existsSync(path.join(src, 'scripts/package.ts'))) throw new Error(`commit ${rev} has no scripts/package.ts (npm run package)`)
  return cached(name, (work) => packageTree(src, work))
}
