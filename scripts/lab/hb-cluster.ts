// A heartbeat-only cluster in the lab: one scripts/lab/heartbeat-node.ts process per node, each inside its
// namespace, driven through JSON lines. Used by test/cluster/heartbeat.test.ts and scripts/bench/heartbeat.ts.
import type { ChildProcess } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { createClusterKey } from '../../core/cluster/cluster-key.js'
import type { HbConfig } from '../../core/config/hb-model.js'
import { createLab, type Lab } from './lab.js'

const here = path.dirname(fileURLToPath(import.meta.url))
export const RUNNER = path.join(here, 'heartbeat-node.ts')
export const REPO_ROOT = path.resolve(here, '../..')

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Ev = { ev: string; [k: string]: any }

export class HbProc {
  readonly events: Ev[] = []
  readonly exited: Promise<number | null>
  private waiters: { pred: (e: Ev) => boolean; resolve: (e: Ev) => void }[] = []
  private nextId = 1
  stderr = ''
  constructor(
    readonly node: string,
    readonly child: ChildProcess,
  ) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      let e: Ev
      try {
        e = JSON.parse(line) as Ev
      } catch {
        return
      }
      e.recvAt = Date.now()
      this.events.push(e)
      this.waiters = this.waiters.filter((w) => (w.pred(e) ? (w.resolve(e), false) : true))
    })
    child.stderr!.setEncoding('utf8').on('data', (d: string) => {
      this.stderr = (this.stderr + d).slice(-4000)
    })
    child.stdin!.on('error', () => {
      /* exited */
    })
    this.exited = new Promise((r) => child.on('exit', (code) => r(code)))
  }
  get pid(): number {
    return this.child.pid!
  }
  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null
  }

  /** Resolves with the first event (already seen from index `from`, or future) matching pred. */
  waitFor(pred: (e: Ev) => boolean, timeoutMs: number, what = 'event', from = 0): Promise<Ev> {
    const have = this.events.slice(from).find(pred)
    if (have) return Promise.resolve(have)
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done)
        reject(new Error(`${this.node}: no ${what} within ${timeoutMs} ms; stderr: ${this.stderr.slice(-500)}`))
      }, timeoutMs)
      const done = (e: Ev) => {
        clearTimeout(t)
        resolve(e)
      }
      this.waiters.push({ pred, resolve: done })
    })
  }

  async request<T = Ev>(cmd: Record<string, unknown>, timeoutMs = 5000): Promise<T> {
    const id = this.nextId++
    const from = this.events.length
    this.child.stdin!.write(JSON.stringify({ ...cmd, id }) + '\n')
    const r = await this.waitFor((e) => e.ev === 'reply' && e.id === id, timeoutMs, `reply to ${String(cmd.cmd)}`, from)
    if (r.error) throw new Error(`${this.node}: ${String(r.error)}`)
    return r as T
  }

  kill(sig: NodeJS.Signals = 'SIGKILL'): void {
    if (this.alive)
      try {
        process.kill(this.pid, sig)
      } catch {
        /* gone */
      }
  }
}

export interface HbClusterOptions {
  prefix: string
  nodes?: number
  links?: number
  timing?: { intervalMs: number; deadMs: number }
  /** Start the runners with --tap (capture packets for replay). */
  tap?: boolean
  /**
   * 'tsx' (default): the runner's TypeScript through tsx. 'bundle': one esbuild bundle run by plain node, as
   * the shipped agent runs (no loader thread: the figure to use for CPU measurements).
   */
  runner?: 'tsx' | 'bundle'
  votes?: Record<string, number>
}

export class HbCluster {
  readonly procs = new Map<string, HbProc>()
  constructor(
    readonly lab: Lab,
    readonly dir: string,
    readonly config: HbConfig,
    readonly hbFile: string,
    readonly keyFile: string,
    readonly key: Buffer,
    private readonly tap: boolean,
    private readonly bundle: string | null = null,
  ) {}

  get nodes(): string[] {
    return this.lab.nodeNames
  }
  proc(node: string): HbProc {
    const p = this.procs.get(node)
    if (!p) throw new Error(`no heartbeat process for ${node}`)
    return p
  }

  /** Starts (or restarts) the heartbeat process of a node; resolves once it is bound and sending. */
  async start(node: string, timeoutMs = 15_000): Promise<HbProc> {
    const old = this.procs.get(node)
    if (old?.alive) throw new Error(`${node} is already running`)
    const argv = [
      process.execPath,
      ...(this.bundle ? [this.bundle] : ['--import', 'tsx', RUNNER]),
      '--hb',
      this.hbFile,
      '--key',
      this.keyFile,
      '--self',
      node,
    ]
    if (this.tap) argv.push('--tap')
    const env = { ...process.env }
    delete env.NODE_OPTIONS // tap's loaders and coverage hooks stay out of the lab's processes
    const child = this.lab.spawn(node, argv, { cwd: REPO_ROOT, env, stdio: ['pipe', 'pipe', 'pipe'] })
    const p = new HbProc(node, child)
    this.procs.set(node, p)
    await Promise.race([
      p.waitFor((e) => e.ev === 'ready', timeoutMs, 'ready'),
      p.exited.then((c) => {
        throw new Error(`${node} exited (${c}) before ready: ${p.stderr}`)
      }),
    ])
    return p
  }

  /** Waits until every running process sees every other running process up. */
  async allUp(timeoutMs = 10_000): Promise<void> {
    const running = [...this.procs.values()].filter((p) => p.alive)
    const t0 = Date.now()
    for (;;) {
      const sts = await Promise.all(
        running.map((p) => p.request<{ status: { peers: { node: string; up: boolean }[] } }>({ cmd: 'status' })),
      )
      const ok = sts.every((s, i) => running.every((q) => q === running[i] || s.status.peers.find((x) => x.node === q.node)?.up))
      if (ok) return
      if (Date.now() - t0 > timeoutMs)
        throw new Error(`not all up within ${timeoutMs} ms: ${JSON.stringify(sts.map((s) => s.status.peers.map((x) => [x.node, x.up])))}`)
      await sleep(50)
    }
  }

  /** Kills every heartbeat process (SIGKILL, by PID) and waits for them. */
  async stopAll(): Promise<void> {
    const ps = [...this.procs.values()]
    for (const p of ps) p.kill('SIGKILL')
    await Promise.all(ps.map((p) => Promise.race([p.exited, sleep(2000)])))
  }

  async destroy(): Promise<void> {
    await this.stopAll().catch(() => undefined)
    await this.lab.destroy()
    await rm(this.dir, { recursive: true, force: true })
  }
}

export async function createHbCluster(opts: HbClusterOptions): Promise<HbCluster> {
  const nodes = opts.nodes ?? 3
  const links = opts.links ?? 2
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mccs-hb-'))
  let lab: Lab | undefined
  try {
    lab = await createLab({ prefix: opts.prefix, nodes, links })
    const config: HbConfig = {
      generation: 1,
      cluster: 'lab',
      nodes: lab.nodeNames.map((n) => ({
        name: n,
        addresses: Object.fromEntries([...Array(links).keys()].map((l) => [`l${l}`, lab!.addr(n, l)])),
        ...(opts.votes?.[n] !== undefined ? { votes: opts.votes[n] } : {}),
      })),
      links: [...Array(links).keys()].map((l) => ({ name: `l${l}`, priority: l })),
      timing: opts.timing ?? { intervalMs: 100, deadMs: 600 },
      port: 14321,
    }
    const hbFile = path.join(dir, 'hb.json')
    await writeFile(hbFile, JSON.stringify(config, null, 2))
    const keyFile = path.join(dir, 'cluster.key')
    const key = await createClusterKey(keyFile)
    let bundle: string | null = null
    if (opts.runner === 'bundle') {
      bundle = path.join(dir, 'heartbeat-node.mjs')
      const esbuild = await import('esbuild')
      await esbuild.build({
        entryPoints: [RUNNER],
        outfile: bundle,
        bundle: true,
        platform: 'node',
        format: 'esm',
        target: 'node20',
        packages: 'external',
        logLevel: 'warning',
      })
    }
    return new HbCluster(lab, dir, config, hbFile, keyFile, key, opts.tap ?? false, bundle)
  } catch (e) {
    await lab?.destroy()
    await rm(dir, { recursive: true, force: true })
    throw e
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  if (!s.length) return NaN
  const m = s.length >> 1
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2
}
