// The network-namespace lab (ARCHITECTURE.md "Test lab"): N nodes, L links, no route out.
//
//   switch namespace per link  <prefix>sw<l>   a Linux bridge `br0`, one port per node: n<i>e<l> (client: cle<l>)
//   node namespace             <prefix>n<i>    eth<l> (veth into link l's bridge), 10.<80+l>.0.<i>/24, lo up
//   client namespace           <prefix>cl      eth<l> on every link, 10.<80+l>.0.250/24 (optional)
// Node i is 1-based in names (n1, n2, ...): node index 0 is `n1` and has address .1 (10.<80+link>.0.<index+1>).
// Nothing is created in the root namespace: veths are made inside the switch namespace with their peer
// moved straight into the node's. Faults:
//   linkDown/linkUp         ip link set eth<l> down|up in the node (or the switch port: a cable pull)
//   partition/cut/heal      nft `bridge` family rules in the switch namespaces (drops every frame, ARP too)
//   loss/clearLoss          nft `inet` rules in the node namespace (udp dport <port> numgen random mod 100 < N drop)
//
// Library: `const lab = await createLab({ prefix: `mccs${process.pid}-`, nodes: 3, links: 2 })` … `await lab.destroy()`.
// CLI:     node --import tsx scripts/lab/lab.ts up   --prefix P --nodes 3 [--links 2] [--client]
//          node --import tsx scripts/lab/lab.ts down --prefix P
//          node --import tsx scripts/lab/lab.ts down --stale        (labs `mccs<pid>[tag]-` of dead processes)
//          node --import tsx scripts/lab/lab.ts exec --prefix P n1 -- ip addr
//          node --import tsx scripts/lab/lab.ts list
import { spawn as cpSpawn, type ChildProcess, type SpawnOptions } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export interface LabOptions {
  /** Prefix of every namespace (unique per test run, e.g. `mccs${process.pid}-`). Letters, digits, `-`, `_`. */
  prefix: string
  /** 1..32 nodes (hb.json's limit). */
  nodes: number
  /** 1..8 links (default 2). */
  links?: number
  /** Also create a client namespace on every link (address .250). */
  client?: boolean
}

/** A node by 0-based index, by name (`n1`…), or `client`. */
export type NodeRef = number | string

export interface ExecResult {
  code: number
  stdout: string
  stderr: string
}
export interface ExecOptions {
  /** Written to stdin. */
  input?: string
  /** Kill after this long (default 30 s). */
  timeoutMs?: number
  /** Throw when the exit code is not 0 (default true). */
  check?: boolean
}

export interface LossOptions {
  /** UDP destination port (default 14321, the heartbeat). */
  port?: number
  /** Only on this link (interface eth<link>); default every link. */
  link?: number
  /** Drop incoming, outgoing or both (default both). */
  direction?: 'in' | 'out' | 'both'
}

interface LossRule {
  percent: number
  port: number
  link: number | null
  direction: 'in' | 'out' | 'both'
}

export const CLIENT = 'client'
const HAVE_SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv', '/usr/sbin/setpriv'].some((f) => existsSync(f))
const HB_PORT = 14321

export function addressOf(index: number | 'client', link: number): string {
  return `10.${80 + link}.0.${index === 'client' ? 250 : index + 1}`
}

/** Runs argv, collects output. */
export function run(argv: string[], opts: ExecOptions = {}): Promise<ExecResult> {
  return new Promise((resolve, reject) => {
    const c = cpSpawn(argv[0]!, argv.slice(1), { stdio: ['pipe', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    c.stdout!.setEncoding('utf8').on('data', (d: string) => {
      stdout += d
    })
    c.stderr!.setEncoding('utf8').on('data', (d: string) => {
      stderr += d
    })
    const timer = setTimeout(() => c.kill('SIGKILL'), opts.timeoutMs ?? 30_000)
    c.on('error', (e) => {
      clearTimeout(timer)
      reject(e)
    })
    c.on('close', (code, sig) => {
      clearTimeout(timer)
      const r = { code: code ?? (sig ? 128 : 1), stdout, stderr }
      if (r.code !== 0 && opts.check !== false) {
        reject(new Error(`${argv.join(' ')} exited ${code ?? sig}: ${stderr.trim() || stdout.trim()}`))
      } else resolve(r)
    })
    c.stdin!.on('error', () => {
      /* command exited before reading */
    })
    c.stdin!.end(opts.input ?? '')
  })
}

export class Lab {
  readonly prefix: string
  readonly nodeCount: number
  readonly linkCount: number
  readonly hasClient: boolean
  /** n1..nN */
  readonly nodeNames: string[]
  private destroyed = false
  private groups: number[][] | null = null
  private cuts: { from: number; to: number; links: number[] | null }[] = []
  private losses = new Map<string, LossRule[]>()
  private children = new Set<ChildProcess>()

  constructor(opts: LabOptions) {
    if (!/^[A-Za-z0-9_-]{1,40}$/.test(opts.prefix)) throw new Error(`lab prefix '${opts.prefix}': letters, digits, - and _, at most 40`)
    const links = opts.links ?? 2
    if (!Number.isInteger(opts.nodes) || opts.nodes < 1 || opts.nodes > 32) throw new Error('lab nodes: 1..32')
    if (!Number.isInteger(links) || links < 1 || links > 8) throw new Error('lab links: 1..8')
    this.prefix = opts.prefix
    this.nodeCount = opts.nodes
    this.linkCount = links
    this.hasClient = opts.client ?? false
    this.nodeNames = Array.from({ length: opts.nodes }, (_, i) => `n${i + 1}`)
  }

  // ---------------------------------------------------------------------------------------- naming

  /** 0-based index of a node, or 'client'. */
  index(node: NodeRef): number | 'client' {
    if (node === CLIENT) {
      if (!this.hasClient) throw new Error('this lab has no client namespace')
      return 'client'
    }
    const i = typeof node === 'number' ? node : this.nodeNames.indexOf(node)
    if (!Number.isInteger(i) || i < 0 || i >= this.nodeCount) throw new Error(`no node ${String(node)} in this lab`)
    return i
  }
  name(node: NodeRef): string {
    const i = this.index(node)
    return i === 'client' ? CLIENT : this.nodeNames[i]!
  }
  /** Namespace of a node (or the client). */
  ns(node: NodeRef): string {
    const i = this.index(node)
    return i === 'client' ? `${this.prefix}cl` : `${this.prefix}n${i + 1}`
  }
  switchNs(link: number): string {
    this.checkLink(link)
    return `${this.prefix}sw${link}`
  }
  /** The node's address on a link. */
  addr(node: NodeRef, link: number): string {
    this.checkLink(link)
    return addressOf(this.index(node), link)
  }
  /** Interface of a link inside a node namespace. */
  ifname(link: number): string {
    this.checkLink(link)
    return `eth${link}`
  }
  /** The node's port on the link's bridge (inside the switch namespace). */
  port(node: NodeRef, link: number): string {
    const i = this.index(node)
    return i === 'client' ? `cle${link}` : `n${i + 1}e${link}`
  }
  namespaces(): string[] {
    const out = [...Array(this.linkCount).keys()].map((l) => `${this.prefix}sw${l}`)
    for (let i = 0; i < this.nodeCount; i++) out.push(`${this.prefix}n${i + 1}`)
    if (this.hasClient) out.push(`${this.prefix}cl`)
    return out
  }
  private checkLink(link: number): void {
    if (!Number.isInteger(link) || link < 0 || link >= this.linkCount) throw new Error(`no link ${link} in this lab`)
  }

  // ----------------------------------------------------------------------------------------- build

  async up(): Promise<void> {
    const existing = new Set(await listNamespaces())
    const clash = this.namespaces().filter((n) => existing.has(n))
    if (clash.length) throw new Error(`lab namespaces already exist: ${clash.join(', ')} (lab.ts down --prefix ${this.prefix})`)
    try {
      for (let l = 0; l < this.linkCount; l++) {
        const sw = this.switchNs(l)
        await run(['ip', 'netns', 'add', sw])
        await run(['ip', '-n', sw, 'link', 'set', 'lo', 'up'])
        await run(['ip', '-n', sw, 'link', 'add', 'br0', 'type', 'bridge', 'stp_state', '0', 'forward_delay', '0'])
        await run(['ip', '-n', sw, 'link', 'set', 'br0', 'up'])
      }
      const members: (number | 'client')[] = [...Array(this.nodeCount).keys()]
      if (this.hasClient) members.push('client')
      for (const m of members) {
        const ns = this.ns(m)
        await run(['ip', 'netns', 'add', ns])
        await run(['ip', '-n', ns, 'link', 'set', 'lo', 'up'])
        for (let l = 0; l < this.linkCount; l++) {
          const sw = this.switchNs(l)
          const port = this.port(m, l)
          await run(['ip', '-n', sw, 'link', 'add', port, 'type', 'veth', 'peer', 'name', `eth${l}`, 'netns', ns])
          await run(['ip', '-n', sw, 'link', 'set', port, 'master', 'br0'])
          await run(['ip', '-n', sw, 'link', 'set', port, 'up'])
          await run(['ip', '-n', ns, 'addr', 'add', `${addressOf(m, l)}/24`, 'dev', `eth${l}`])
          await run(['ip', '-n', ns, 'link', 'set', `eth${l}`, 'up'])
        }
      }
    } catch (e) {
      await this.destroy()
      throw e
    }
  }

  /** Kills the processes started with spawn() (by PID) and deletes every namespace of the lab. Idempotent. */
  async destroy(): Promise<void> {
    this.destroyed = true
    for (const c of this.children) {
      if (c.exitCode === null && c.signalCode === null && c.pid) {
        try {
          process.kill(c.pid, 'SIGKILL')
        } catch {
          /* gone */
        }
      }
    }
    this.children.clear()
    await destroyPrefix(this.prefix)
  }

  // ------------------------------------------------------------------------------------- processes

  /** Runs argv inside a node's namespace (`ip netns exec`). */
  exec(node: NodeRef, argv: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    return run(['ip', 'netns', 'exec', this.ns(node), ...argv], opts)
  }
  /** Runs argv inside a link's switch namespace. */
  execSwitch(link: number, argv: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    return run(['ip', 'netns', 'exec', this.switchNs(link), ...argv], opts)
  }
  /**
   * Starts argv inside a node's namespace. `ip netns exec` execs the command, so the child's PID is the
   * command's own (kill -9 hits it directly). destroy() kills what is still running.
   */
  spawn(node: NodeRef, argv: string[], opts: SpawnOptions & { orphanOk?: boolean } = {}): ChildProcess {
    if (this.destroyed) throw new Error('lab destroyed')
    // setpriv --pdeathsig: the child dies with us even if we are killed before destroy() runs. It execs too,
    // so the PID is still the command's.
    const { orphanOk, ...spawnOpts } = opts
    const guard = !orphanOk && HAVE_SETPRIV ? ['setpriv', '--pdeathsig', 'KILL', '--'] : []
    const c = cpSpawn('ip', ['netns', 'exec', this.ns(node), ...guard, ...argv], { stdio: ['pipe', 'pipe', 'pipe'], ...spawnOpts })
    this.children.add(c)
    c.on('exit', () => this.children.delete(c))
    return c
  }

  // ----------------------------------------------------------------------------------------- faults

  /** Link failure: `ip link set eth<l> down` in the node (side 'node'), or its switch port (a cable pull). */
  async linkDown(node: NodeRef, link: number, opts: { side?: 'node' | 'switch' } = {}): Promise<void> {
    await this.setLink(node, link, 'down', opts.side ?? 'node')
  }
  async linkUp(node: NodeRef, link: number, opts: { side?: 'node' | 'switch' } = {}): Promise<void> {
    await this.setLink(node, link, 'up', opts.side ?? 'node')
  }
  private async setLink(node: NodeRef, link: number, state: 'up' | 'down', side: 'node' | 'switch'): Promise<void> {
    this.checkLink(link)
    if (side === 'node') await run(['ip', '-n', this.ns(node), 'link', 'set', `eth${link}`, state])
    else await run(['ip', '-n', this.switchNs(link), 'link', 'set', this.port(node, link), state])
  }

  /**
   * A true partition: frames between nodes of different groups are dropped in the switches (every link, or
   * `links`). Nodes in no group (and the client unless named) keep reaching everyone. Replaces a previous
   * partition; cut() rules stay.
   */
  async partition(groups: NodeRef[][], opts: { links?: number[] } = {}): Promise<void> {
    const seen = new Set<number>()
    this.groups = groups.map((g) =>
      g.map((n) => {
        const i = this.index(n)
        const k = i === 'client' ? -1 : i
        if (seen.has(k)) throw new Error(`node ${String(n)} is in two partition groups`)
        seen.add(k)
        return k
      }),
    )
    this.partitionLinks = opts.links ?? null
    await this.applySwitchRules()
  }
  private partitionLinks: number[] | null = null

  /** One-way cut: frames from `from` to `to` are dropped in the switches (every link, or `links`). */
  async cut(from: NodeRef, to: NodeRef, opts: { links?: number[] } = {}): Promise<void> {
    const f = this.index(from)
    const t = this.index(to)
    this.cuts.push({ from: f === 'client' ? -1 : f, to: t === 'client' ? -1 : t, links: opts.links ?? null })
    await this.applySwitchRules()
  }

  /** Removes every partition and cut. */
  async heal(): Promise<void> {
    this.groups = null
    this.partitionLinks = null
    this.cuts = []
    await this.applySwitchRules()
  }

  private async applySwitchRules(): Promise<void> {
    const portOf = (i: number, l: number) => `"${i === -1 ? `cle${l}` : `n${i + 1}e${l}`}"`
    await Promise.all(
      [...Array(this.linkCount).keys()].map(async (l) => {
        const rules: string[] = []
        if (this.groups && (this.partitionLinks === null || this.partitionLinks.includes(l))) {
          for (const a of this.groups)
            for (const b of this.groups) {
              if (a === b || !a.length || !b.length) continue
              rules.push(`iifname { ${a.map((i) => portOf(i, l)).join(', ')} } oifname { ${b.map((i) => portOf(i, l)).join(', ')} } drop`)
            }
        }
        for (const c of this.cuts) {
          if (c.links && !c.links.includes(l)) continue
          rules.push(`iifname ${portOf(c.from, l)} oifname ${portOf(c.to, l)} drop`)
        }
        await nftReplace(this.switchNs(l), 'bridge', 'mccs_lab', [
          'chain forward { type filter hook forward priority 0; policy accept;',
          ...rules.map((r) => `  ${r}`),
          '}',
        ])
      }),
    )
  }

  /** Random loss of UDP packets to `port` in a node's namespace (`numgen random mod 100 < percent drop`). */
  async loss(node: NodeRef, percent: number, opts: LossOptions = {}): Promise<void> {
    if (!(percent >= 0 && percent <= 100)) throw new Error('loss percent: 0..100')
    if (opts.link !== undefined) this.checkLink(opts.link)
    const ns = this.ns(node)
    const list = this.losses.get(ns) ?? []
    list.push({ percent: Math.round(percent), port: opts.port ?? HB_PORT, link: opts.link ?? null, direction: opts.direction ?? 'both' })
    this.losses.set(ns, list)
    await this.applyLoss(ns)
  }

  /** Removes every loss rule of a node. */
  async clearLoss(node: NodeRef): Promise<void> {
    const ns = this.ns(node)
    this.losses.delete(ns)
    await this.applyLoss(ns)
  }

  private async applyLoss(ns: string): Promise<void> {
    const inRules: string[] = []
    const outRules: string[] = []
    for (const r of this.losses.get(ns) ?? []) {
      // nft's `numgen random mod 100` yields 0..99: `< 100` is out of its range, so 100 % is a plain drop.
      const match = r.percent >= 100 ? `udp dport ${r.port} drop` : `udp dport ${r.port} numgen random mod 100 < ${r.percent} drop`
      if (r.direction !== 'out') inRules.push(`${r.link === null ? '' : `iifname "eth${r.link}" `}${match}`)
      if (r.direction !== 'in') outRules.push(`${r.link === null ? '' : `oifname "eth${r.link}" `}${match}`)
    }
    await nftReplace(ns, 'inet', 'mccs_loss', [
      'chain input { type filter hook input priority 0; policy accept;',
      ...inRules.map((r) => `  ${r}`),
      '}',
      'chain output { type filter hook output priority 0; policy accept;',
      ...outRules.map((r) => `  ${r}`),
      '}',
    ])
  }
}

/** Atomically replaces one nft table inside a namespace. */
async function nftReplace(ns: string, family: string, table: string, body: string[]): Promise<void> {
  const script = [
    `table ${family} ${table}`, // create if missing, so the delete below cannot fail
    `delete table ${family} ${table}`,
    `table ${family} ${table} {`,
    ...body.map((l) => `  ${l}`),
    '}',
    '',
  ].join('\n')
  await run(['ip', 'netns', 'exec', ns, 'nft', '-f', '-'], { input: script })
}

export async function listNamespaces(): Promise<string[]> {
  const r = await run(['ip', 'netns', 'list'], { check: false })
  return r.stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/)[0] ?? '')
    .filter(Boolean)
}

const OWN = (prefix: string) => new RegExp(`^${prefix.replace(/[-]/g, '\\-')}(sw\\d+|n\\d+|cl)$`)

/** Deletes every lab namespace with this prefix (switches last). */
export async function destroyPrefix(prefix: string): Promise<string[]> {
  const re = OWN(prefix)
  const mine = (await listNamespaces()).filter((n) => re.test(n))
  mine.sort((a, b) => Number(a.startsWith(prefix + 'sw')) - Number(b.startsWith(prefix + 'sw')))
  for (const n of mine) await run(['ip', 'netns', 'del', n], { check: false })
  return mine
}

/**
 * Deletes the namespaces of labs whose prefix is `mccs<pid>-` and whose process is gone (a test killed before
 * its teardown). Only namespaces without processes in them are touched. Returns what was deleted.
 */
export async function sweepStaleLabs(): Promise<string[]> {
  const gone: string[] = []
  for (const n of await listNamespaces()) {
    const m = /^mccsb?(\d+)[a-z]?(?:x\d+)?-(sw\d+|n\d+|cl)$/.exec(n) // mccs<pid>[tag]- (tests), mccsb<pid>x<run>- (benches)
    if (!m || pidAlive(Number(m[1]))) continue
    const pids = await run(['ip', 'netns', 'pids', n], { check: false })
    if (pids.stdout.trim()) continue
    await run(['ip', 'netns', 'del', n], { check: false })
    gone.push(n)
  }
  return gone
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Builds a lab; on failure nothing is left behind. */
export async function createLab(opts: LabOptions): Promise<Lab> {
  const lab = new Lab(opts)
  await lab.up()
  return lab
}

/** True when `ip`, `nft` and network namespaces are usable (root). */
export async function labAvailable(): Promise<{ ok: boolean; reason?: string }> {
  if (process.getuid?.() !== 0) return { ok: false, reason: 'needs root' }
  for (const bin of [
    ['ip', '-V'],
    ['nft', '--version'],
  ]) {
    const r = await run(bin, { check: false }).catch(() => null)
    if (!r || r.code !== 0) return { ok: false, reason: `${bin[0]} is missing (apt-get install iproute2 nftables)` }
  }
  return { ok: true }
}

// ------------------------------------------------------------------------------------------------- CLI

async function cli(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv
  const dash = rest.indexOf('--')
  const opts = dash >= 0 ? rest.slice(0, dash) : rest
  const tail = dash >= 0 ? rest.slice(dash + 1) : []
  const flag = (n: string) => {
    const i = opts.indexOf(`--${n}`)
    return i >= 0 ? opts[i + 1] : undefined
  }
  const prefix = flag('prefix') ?? 'mccslab-'
  const labOf = () =>
    new Lab({ prefix, nodes: Number(flag('nodes') ?? 16), links: Number(flag('links') ?? 8), client: opts.includes('--client') })
  switch (cmd) {
    case 'up': {
      const lab = await createLab({
        prefix,
        nodes: Number(flag('nodes') ?? 3),
        links: Number(flag('links') ?? 2),
        client: opts.includes('--client'),
      })
      for (const n of lab.nodeNames) {
        console.log(`${lab.ns(n)}\t${[...Array(lab.linkCount).keys()].map((l) => `eth${l}=${lab.addr(n, l)}`).join(' ')}`)
      }
      if (lab.hasClient)
        console.log(`${lab.ns(CLIENT)}\t${[...Array(lab.linkCount).keys()].map((l) => `eth${l}=${lab.addr(CLIENT, l)}`).join(' ')}`)
      return 0
    }
    case 'down': {
      const gone = opts.includes('--stale') ? await sweepStaleLabs() : await destroyPrefix(prefix)
      console.log(gone.length ? `deleted ${gone.join(' ')}` : 'nothing to delete')
      return 0
    }
    case 'exec': {
      const node = opts.find((o, i) => !o.startsWith('--') && !(opts[i - 1] ?? '').startsWith('--'))
      if (!node || !tail.length) throw new Error('usage: lab.ts exec --prefix P <node> -- <command...>')
      const lab = labOf()
      const c = cpSpawn('ip', ['netns', 'exec', lab.ns(node), ...tail], { stdio: 'inherit' })
      return await new Promise((r) => c.on('close', (code) => r(code ?? 1)))
    }
    case 'list': {
      const all = await listNamespaces()
      console.log(all.filter((n) => /^.+(sw\d+|n\d+|cl)$/.test(n)).join('\n'))
      return 0
    }
    default:
      console.error('usage: lab.ts up|down [--stale]|exec|list --prefix P [--nodes N] [--links L] [--client] [node -- command...]')
      return 2
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  cli(process.argv.slice(2)).then(
    (c) => {
      process.exitCode = c
    },
    (e) => {
      console.error(e instanceof Error ? e.message : e)
      process.exitCode = 1
    },
  )
}
