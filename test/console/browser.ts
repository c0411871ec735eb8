// Browser tests of the web console: real agents (`node dist/mccs.js agent`, as an operator runs them)
// with the console on 127.0.0.x and a free port, and headless Chromium driven by playwright-core.
// One node, or two nodes on loopback in cluster mode (heartbeats on 127.0.0.x, a shared cluster key).
import { writeDevLicense } from '../../core/license/dev-license.js'
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, mkdir, rm, writeFile, readFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import https from 'node:https'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { chromium, type Browser, type Page } from 'playwright-core'
import { createClusterKey } from '../../core/cluster/cluster-key.js'
import { packageRoot } from '../../core/paths.js'

export const CHROMIUM = process.env.MCCS_CHROMIUM ?? '/usr/bin/chromium'
export const NEW_PASSWORD = 'console-Pass1!x'

/** Why browser tests cannot run here, or null. The UI bundle is made here when missing (esbuild, well
 *  under a second): a concurrent `npm run build` of the agent may have just removed dist/. */
export async function browserUnavailable(): Promise<string | null> {
  if (!existsSync(CHROMIUM)) return `no Chromium at ${CHROMIUM} (scripts/test-deps.sh installs it)`
  if (!existsSync(path.join(packageRoot(), 'dist/console/index.html')))
    await (await import('../../scripts/build-console.js')).buildConsole()
  if (!existsSync(path.join(packageRoot(), 'dist/mccs.js'))) return 'the agent is not built: run npm run build'
  return null
}

export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer()
    s.once('error', reject)
    s.listen(0, host, () => {
      const p = (s.address() as net.AddressInfo).port
      s.close(() => resolve(p))
    })
  })
}

/** GET over HTTPS accepting the self-signed certificate (status and body), or null when nothing answers. */
export function httpsGet(url: string): Promise<{ status: number; body: string } | null> {
  return new Promise((resolve) => {
    const q = https.get(url, { rejectUnauthorized: false, timeout: 2000 }, (r) => {
      let b = ''
      r.on('data', (d) => {
        b += d
      })
      r.on('end', () => resolve({ status: r.statusCode ?? 0, body: b }))
    })
    q.on('error', () => resolve(null))
    q.on('timeout', () => {
      q.destroy()
      resolve(null)
    })
  })
}

export interface ConsoleNode {
  name: string
  home: string
  address: string
  port: number
  url: string
  proc: ChildProcess
  output: string[]
  env: NodeJS.ProcessEnv
}
export interface ConsoleCluster {
  nodes: ConsoleNode[]
  /** https://<address>:<port> of node i. */
  base(i?: number): string
  log(i?: number): Promise<string>
  /** Stops node i's agent (SIGTERM, a planned stop) and starts it again in the same home; waits for its console. */
  restart(i?: number): Promise<void>
  /** Stops every node and removes its home; given the test, a failed one first prints each node's log tail. */
  stop(t?: FailureReport): Promise<void>
}
/** What stop() needs of a tap test to report a failure (its agents' logs are gone after the stop). */
export interface FailureReport {
  passing(): boolean
  comment(...args: unknown[]): void
}

let hostCounter = 0
/** A loopback address of its own per cluster (127.x.y.z from the pid), so parallel tests do not meet. */
function loopback(index: number): string {
  const n = (process.pid * 7 + hostCounter) % 60000
  return `127.${100 + ((n >> 8) % 100)}.${n & 255}.${index + 1}`
}

export async function startConsoleCluster(o: {
  nodes?: number
  main?: (nodes: string[]) => Record<string, unknown>
  /** Extra plugin folders (MCCS_PLUGIN_DIRS). */
  pluginDirs?: string[]
  env?: Record<string, string>
  /** Files written under each node's home before it starts (path relative to the home -> content). */
  files?: Record<string, string | Uint8Array>
  /** A term license per node (default); false: none (limited mode). */
  licenses?: boolean
  /** Changes to hb.json before it is written (e.g. quorum: {twoNode: true}). */
  hb?: (hb: Record<string, unknown>) => Record<string, unknown>
}): Promise<ConsoleCluster> {
  const count = o.nodes ?? 1
  hostCounter++
  const names = Array.from({ length: count }, (_, i) => `n${i + 1}`)
  const hbPort = await freePort()
  const key = randomBytes(32)
  const hbBase = {
    generation: 1,
    cluster: 'console-test',
    port: hbPort,
    timing: { intervalMs: 100, deadMs: 1000 },
    links: [{ name: 'lo', priority: 0 }],
    nodes: names.map((n, i) => ({ name: n, addresses: { lo: loopback(i) } })),
  }
  const hb = o.hb ? o.hb(hbBase) : hbBase
  const main = o.main?.(names) ?? { generation: 1, types: {}, groups: [], resources: [], dependencies: [] }
  const nodes: ConsoleNode[] = []
  const stop = async (t?: FailureReport) => {
    if (t && !t.passing()) {
      for (const n of nodes) {
        const log = await readFile(path.join(n.home, 'logs/mccs.log'), 'utf8').catch(() => n.output.join(''))
        t.comment(`--- ${n.name}'s log, last 60 lines ---\n${log.trimEnd().split('\n').slice(-60).join('\n')}`)
      }
    }
    for (const n of nodes) {
      if (n.proc.exitCode === null && n.proc.signalCode === null) {
        n.proc.kill('SIGTERM')
        const gone = await Promise.race([
          new Promise((r) => n.proc.once('exit', () => r(true))),
          new Promise((r) => setTimeout(() => r(false), 8000).unref()),
        ])
        if (!gone) n.proc.kill('SIGKILL')
      }
    }
    // Processes the process plugin started are supervised apart from the agent: stop them by their pid files.
    for (const n of nodes) {
      await killManaged(n.home)
      // Retried: a file system may lag a moment behind processes that just died (never a live writer:
      // killManaged returned once every process under the home was gone).
      await rm(n.home, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 })
    }
  }
  try {
    for (const [i, name] of names.entries()) {
      const home = await mkdtemp(path.join(os.tmpdir(), `mccs-console-${name}-`))
      await mkdir(path.join(home, 'config'), { recursive: true })
      await writeFile(path.join(home, 'config/hb.json'), JSON.stringify(hb, null, 2))
      await writeFile(path.join(home, 'config/main.json'), JSON.stringify(main, null, 2))
      for (const [rel, text] of Object.entries(o.files ?? {})) {
        await mkdir(path.dirname(path.join(home, rel)), { recursive: true })
        await writeFile(path.join(home, rel), text, { mode: 0o600 })
      }
      if (count > 1) await createClusterKey(path.join(home, 'config/cluster.key'), { key })
      if (o.licenses !== false) await writeDevLicense(path.join(home, 'config'), name) // unlicensed: limited mode, no auto-start
      const address = loopback(i)
      const port = await freePort()
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        MCCS_HOME: home,
        MCCS_NODE_NAME: name,
        MCCS_CONSOLE_PORT: String(port),
        MCCS_CONSOLE_LISTEN: address,
        ...(o.pluginDirs?.length ? { MCCS_PLUGIN_DIRS: o.pluginDirs.join(':') } : {}),
        ...o.env,
      }
      delete env.NODE_OPTIONS
      delete env.MCCS_BOOTSTRAP
      const output: string[] = []
      nodes.push({ name, home, address, port, url: `https://${address}:${port}/main`, proc: spawnAgent(env, output), output, env })
    }
    for (const n of nodes) await consoleUp(n)
  } catch (e) {
    await stop()
    throw e
  }
  return {
    nodes,
    stop,
    base: (i = 0) => `https://${nodes[i]!.address}:${nodes[i]!.port}`,
    log: (i = 0) => readFile(path.join(nodes[i]!.home, 'logs/mccs.log'), 'utf8').catch(() => ''),
    restart: async (i = 0) => {
      const n = nodes[i]!
      if (n.proc.exitCode === null && n.proc.signalCode === null) {
        const gone = new Promise((r) => n.proc.once('exit', r))
        n.proc.kill('SIGTERM')
        await gone
      }
      n.proc = spawnAgent(n.env, n.output)
      await consoleUp(n)
    },
  }
}

function spawnAgent(env: NodeJS.ProcessEnv, output: string[]): ChildProcess {
  const proc = spawn(process.execPath, ['--no-node-snapshot', path.join(packageRoot(), 'dist/mccs.js'), 'agent'], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  proc.stdout!.on('data', (d) => output.push(String(d)))
  proc.stderr!.on('data', (d) => output.push(String(d)))
  return proc
}

/** Waits (30 s at most) until node n's console answers. */
async function consoleUp(n: ConsoleNode): Promise<void> {
  const end = Date.now() + 30_000
  while (!(await httpsGet(`https://${n.address}:${n.port}/api/openapi.json`))) {
    if (n.proc.exitCode !== null) throw new Error(`agent ${n.name} exited ${n.proc.exitCode}: ${n.output.join('')}`)
    if (Date.now() > end) {
      const log = await readFile(path.join(n.home, 'logs/mccs.log'), 'utf8').catch(() => '')
      throw new Error(
        `console of ${n.name} did not answer in 30 s: ${n.output.join('')}\n${log
          .split('\n')
          .filter((l) => /"level":[456]0/.test(l))
          .join('\n')}`,
      )
    }
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** Stops what agents started under this home: the process plugin's services and the mirror's daemons
 *  (qemu-storage-daemon, nbdfuse) run under supervisors apart from the agent (they survive an agent
 *  restart by design). Returns once each is gone, so nothing writes into the home while it is removed.
 *  Each supervisor dies before its service: a supervisor that sees its service die records it (exit.hint,
 *  then exit.json through a forked `mv` that outlives its own SIGKILL) — killed second, on a loaded host
 *  it did, while rm emptied the folder (ENOTEMPTY: ui-mirror-nocopy.test.ts). Its whole process group
 *  goes (the mv, the date it forks); the service has a session of its own. Each "<pid> <starttime>"
 *  file is checked against /proc before a signal, so a recycled pid is never hit. A second look after
 *  the first kills finds a daemon whose start was under way when its agent stopped (its supervisor
 *  writes its pid files a moment after the spawn). */
export async function killManaged(home: string): Promise<void> {
  const { readdir } = await import('node:fs/promises')
  const walk = async (d: string): Promise<string[]> => {
    const out: string[] = []
    for (const e of await readdir(d, { withFileTypes: true }).catch(() => [])) {
      const p = path.join(d, e.name)
      if (e.isDirectory()) out.push(...(await walk(p)))
      else if (e.name === 'child.pid' || e.name === 'supervisor.pid') out.push(p)
    }
    return out
  }
  const kill = (pid: number, group: boolean): void => {
    for (const target of group ? [-pid, pid] : [pid])
      try {
        process.kill(target, 'SIGKILL')
      } catch {
        /* no group, or gone */
      }
  }
  for (let look = 0; look < 2; look++) {
    const live: Array<{ pid: number; start: string }> = []
    const supervisors: number[] = []
    const services: number[] = []
    for (const f of await walk(path.join(home, 'state/proc'))) {
      const [pidText, startText] = (await readFile(f, 'utf8').catch(() => '')).trim().split(/\s+/)
      const pid = Number(pidText)
      if (!(pid > 1) || !startText || (await startTime(pid)) !== startText || (await zombie(pid))) continue // gone, or not ours
      live.push({ pid, start: startText })
      ;(f.endsWith('supervisor.pid') ? supervisors : services).push(pid)
    }
    for (const pid of supervisors) kill(pid, true)
    for (const pid of services) kill(pid, true)
    const end = Date.now() + 10_000
    for (;;) {
      const left: number[] = []
      for (const p of live) if ((await startTime(p.pid)) === p.start && !(await zombie(p.pid))) left.push(p.pid)
      if (!left.length) break
      if (Date.now() > end) throw new Error(`processes under ${home} still run 10 s after SIGKILL: ${left.join(' ')}`)
      await new Promise((r) => setTimeout(r, 20))
    }
    // Nothing was ever started under this home (no process folder): no second look.
    if (look === 0 && !(await readdir(path.join(home, 'state/proc')).catch(() => [])).length) return
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** Field 22 of /proc/<pid>/stat (start time), or null when it is gone. */
async function startTime(pid: number): Promise<string | null> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '')
  return stat ? (stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null) : null
}
async function zombie(pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '')
  return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')
}
export async function launch(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'], headless: true })
}

const violations = new WeakMap<Page, string[]>()

export async function newPage(browser: Browser, o: { width?: number; height?: number } = {}): Promise<Page> {
  const ctx = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: o.width ?? 1400, height: o.height ?? 900 } })
  const page = await ctx.newPage()
  page.setDefaultTimeout(15_000)
  // What the console's Content-Security-Policy refused (Chromium reports each on the page's console).
  const seen: string[] = []
  violations.set(page, seen)
  page.on('console', (m) => {
    if (/Content Security Policy/i.test(m.text())) seen.push(m.text())
  })
  return page
}

/** Everything the Content-Security-Policy refused on this page so far (an inline style, a script…). */
export function cspViolations(page: Page): string[] {
  return [...(violations.get(page) ?? [])]
}

/** The first login: mcuser/mccs, then the forced change to `password`; ends on the main screen. */
export async function firstLogin(page: Page, base: string, password = NEW_PASSWORD): Promise<void> {
  await page.goto(`${base}/main`)
  await page.fill('#login-user', 'mcuser')
  await page.fill('#login-password', 'mccs')
  await page.click('#login-submit')
  await page.waitForSelector('#pw-next')
  await page.fill('#pw-next', password)
  await page.fill('#pw-again', password)
  await page.click('#pw-submit')
  await page.waitForSelector('[role=tree]')
}

/** Runs a menu command through the menu bar, as an operator clicks it. */
export async function menu(page: Page, top: 'file' | 'edit' | 'action' | 'window' | 'help', command: string): Promise<void> {
  await page.click(`#menubtn-${top}`)
  await page.click(`#menu-${top} [data-command="${command}"]`)
}

/** Selects a tree item by its key: cluster, group:<g>, resource:<r>, node:<n>, type:<t>. */
export async function pick(page: Page, key: string): Promise<void> {
  // The tree is drawn again on every status event, and a banner appearing above it moves its rows: a click
  // aimed at a row can land on its neighbour. Clicked again until the item is the selected one.
  const item = `[role=treeitem][data-key="${key}"]`
  for (let i = 0; ; i++) {
    await page.click(`${item} > .tree-row`)
    const ok = await page
      .waitForSelector(`${item}[aria-selected=true]`, { timeout: 2000 })
      .then(() => true)
      .catch(() => false)
    if (ok) return
    if (i === 4) throw new Error(`tree item ${key} is not selected after 5 clicks`)
  }
}
