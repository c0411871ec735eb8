// A "host" for install tests: a lab node's network namespace plus a mount namespace of its own in which
// /usr, /etc, /var, /opt and /root are overlays on a tmpfs. Whatever dpkg or install.sh writes there (the
// package, its unit, dpkg's database, /opt/MCCS) stays in that namespace and is gone with it; the root
// filesystem is never written. Node, npm and the compilers are removed from the overlay's /usr, so the
// host has no runtime and no build tools of its own: what runs there came with the artifact.
// A holder process (sleep) keeps the namespaces alive; commands enter them with nsenter. destroy() kills
// what was started (by PID) and the holder; the namespace and its tmpfs go with the last process.
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { run, type ExecOptions, type ExecResult, type Lab } from '../../scripts/lab/lab.js'

/** A clean environment: the PATH of a root shell, nothing from the test runner (NODE_OPTIONS, tap's loaders). */
export const CLEAN_ENV = ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'HOME=/root', 'LANG=C.UTF-8']
/** What a clean host lacks: a Node runtime, npm and build tools. */
export const ABSENT_TOOLS = ['node', 'nodejs', 'npm', 'npx', 'corepack', 'gcc', 'g++', 'cc', 'c++', 'make', 'cpp', 'tsc', 'tsx']

const HOLDER = `set -e
T="$1"
mount -t tmpfs mccs-install-test "$T"
for d in usr etc var opt root; do
  mkdir -p "$T/$d.u" "$T/$d.w"
  mount -t overlay overlay -o "lowerdir=/$d,upperdir=$T/$d.u,workdir=$T/$d.w" "/$d"
done
for f in ${ABSENT_TOOLS.join(' ')}; do rm -f "/usr/bin/$f" "/usr/local/bin/$f"; done
rm -f /usr/bin/gcc-* /usr/bin/g++-* /usr/bin/x86_64-linux-gnu-* /usr/bin/node-gyp
rm -rf /opt/MCCS /etc/mccs
echo ready
exec sleep 100000
`

export class Host {
  private readonly started = new Set<ChildProcess>()
  private constructor(
    readonly lab: Lab,
    readonly node: string,
    readonly holder: ChildProcess,
    private readonly tmp: string,
  ) {}

  static async create(lab: Lab, node: string): Promise<Host> {
    const tmp = await mkdtemp(path.join(os.tmpdir(), `mccs-host-${node}-`))
    const holder = lab.spawn(node, ['unshare', '-m', '--propagation', 'private', 'sh', '-c', HOLDER, 'holder', tmp], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let err = ''
    holder.stderr!.on('data', (d: Buffer) => {
      err += String(d)
    })
    const ready = await new Promise<boolean>((resolve) => {
      const rl = createInterface({ input: holder.stdout! })
      rl.on('line', (l) => {
        if (l === 'ready') resolve(true)
      })
      holder.once('exit', () => resolve(false))
      setTimeout(() => resolve(false), 30_000).unref()
    })
    const h = new Host(lab, node, holder, tmp)
    if (!ready) {
      await h.destroy()
      throw new Error(`host ${node} could not be made: ${err.trim()}`)
    }
    return h
  }

  /** Runs argv in the host with a clean environment (plus `env`). */
  exec(argv: string[], o: ExecOptions & { env?: string[]; cwd?: string } = {}): Promise<ExecResult> {
    // env -C, not nsenter --wd: nsenter opens that folder before it enters the mount namespace.
    const wd = o.cwd ? ['-C', o.cwd] : []
    return run(['nsenter', '-t', String(this.holder.pid), '-m', '-n', '--', 'env', '-i', ...wd, ...CLEAN_ENV, ...(o.env ?? []), ...argv], {
      check: false,
      timeoutMs: 120_000,
      ...o,
    })
  }

  /** A shell command line in the host. */
  sh(script: string, o: ExecOptions & { env?: string[] } = {}): Promise<ExecResult> {
    return this.exec(['sh', '-c', script], o)
  }

  /** mccs as an operator runs it (the one the artifact put on the PATH). */
  mccs(args: string[], o: ExecOptions & { env?: string[] } = {}): Promise<ExecResult> {
    return this.exec(['mccs', ...args], o)
  }

  /** A long-running process in the host (killed by destroy()); env exactly as given. */
  spawn(argv: string[], o: { env: string[]; cwd?: string }): ChildProcess {
    const wd = o.cwd ? ['-C', o.cwd] : []
    // setpriv --pdeathsig: it dies with the test even if the test is killed before destroy().
    const c = spawn(
      'nsenter',
      ['-t', String(this.holder.pid), '-m', '-n', '--', 'setpriv', '--pdeathsig', 'KILL', '--', 'env', '-i', ...wd, ...o.env, ...argv],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    this.started.add(c)
    c.on('exit', () => this.started.delete(c))
    return c
  }

  async destroy(): Promise<void> {
    for (const c of this.started)
      if (c.pid && c.exitCode === null && c.signalCode === null) {
        try {
          process.kill(c.pid, 'SIGKILL')
        } catch {
          /* gone */
        }
      }
    if (this.holder.pid && this.holder.exitCode === null) {
      try {
        process.kill(this.holder.pid, 'SIGKILL')
      } catch {
        /* gone */
      }
    }
    await new Promise((r) => setTimeout(r, 200))
    await rm(this.tmp, { recursive: true, force: true }).catch(() => {})
  }
}

/** The unit's Environment= and ExecStart= and WorkingDirectory= (what systemd would run). */
export function unitCommand(unit: string): { env: string[]; argv: string[]; cwd?: string } {
  const env: string[] = []
  let argv: string[] = []
  let cwd: string | undefined
  for (const line of unit.split('\n')) {
    const m = /^(\w+)=(.*)$/.exec(line.trim())
    if (!m) continue
    if (m[1] === 'Environment') env.push(...m[2]!.split(/\s+/).filter(Boolean))
    if (m[1] === 'ExecStart') argv = m[2]!.split(/\s+/).filter(Boolean)
    if (m[1] === 'WorkingDirectory') cwd = m[2]!
  }
  return { env, argv, ...(cwd ? { cwd } : {}) }
}
