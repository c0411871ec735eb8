// npm start / mccs demo: a two-node cluster on this machine's loopback (demo1 on 127.0.0.1, demo2 on
// 127.0.0.2), each agent a child process with its own home, one cluster key, heartbeats on the loopback
// addresses, a fence device that can only kill what the demo started, a temporary (term) license per node,
// the EC2-compatible endpoint, and the demo group (dummy <- script <- process) brought online. It prints
// how to look at it, and the console's URL with the first-login hint once the console answers.
// Ctrl-C takes the group offline and stops everything it started.
//
// Ports: --port (the demo service, 18080), MCCS_CONSOLE_PORT (11080), MCCS_DEMO_HB_PORT (heartbeats,
// UDP; the agents' channel uses it + 4 on TCP; 14321), MCCS_DEMO_EC2_PORT (0 = any free port).
import { spawn, type ChildProcess } from 'node:child_process'
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { mkdtemp, mkdir, writeFile, chmod, readFile, appendFile } from 'node:fs/promises'
import { t, say, type Locale, type Said } from '../i18n/messages.js'
import https from 'node:https'
import os from 'node:os'
import path from 'node:path'
import { loadBootstrap, type Bootstrap } from '../config/bootstrap.js'
import { versionedFile } from '../config/schema-version.js'
import type { MainConfig } from '../engine/index.js'
import type { AgentStatus } from '../agent/status.js'
import type { CommandReply } from '../agent/agent.js'
import { currentUser } from './user.js'
import type { ErrorCode } from '../errors.js'
import { createClusterKey } from '../cluster/cluster-key.js'
import { issueLicense } from '../license/format.js'
import { installLicense, TRUSTED_KEYS_FILE } from '../license/store.js'
import { ProcManager } from '../plugins/caps/proc.js'
import { writeProfile, type SharedFiles } from '../plugins/caps/aws-files.js'
import { writeFileAtomic } from '../config/atomic.js'
import { packageRoot } from '../paths.js'
import { rpc } from './control-client.js'
import { renderStatus } from './status-cmd.js'
import { EXIT } from './exit-codes.js'
import type { CliIO } from './io.js'

export const DEMO_PORT = 18080
export const DEMO_NODES = [
  { name: 'demo1', ip: '127.0.0.1' },
  { name: 'demo2', ip: '127.0.0.2' },
] as const
/** The profile each demo agent uses for the demo's EC2 endpoint (its keys are the endpoint's test keys). */
export const DEMO_AWS_PROFILE = 'demo'
const DEMO_AWS_REGION = 'us-east-1'

/** Each demo agent's own AWS files (AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE point here): the demo
 *  never reads or writes the files of the user who runs it. */
export const demoAwsFiles = (home: string): SharedFiles => ({
  config: path.join(home, 'aws', 'config'),
  credentials: path.join(home, 'aws', 'credentials'),
})

/** Points every demo agent at the demo's EC2 endpoint: config/aws.json (region, endpoint, profile) and the
 *  profile's keys in the agent's own AWS files, so the AWS wizards and types work without instance metadata. */
async function configureAws(homes: Record<string, Bootstrap>, endpoint: string): Promise<void> {
  for (const b of Object.values(homes)) {
    await writeProfile(DEMO_AWS_PROFILE, { accessKeyId: 'test', secretAccessKey: 'test', region: DEMO_AWS_REGION }, demoAwsFiles(b.home))
    const settings = { profile: DEMO_AWS_PROFILE, region: DEMO_AWS_REGION, endpoint }
    await writeFileAtomic(path.join(b.configDir, 'aws.json'), JSON.stringify(settings, null, 2) + '\n', 0o600)
  }
}

export interface DemoOptions {
  dir?: string
  port?: number
  env?: NodeJS.ProcessEnv
  /** Resolves when the demo should stop (default: SIGINT or SIGTERM). */
  until?: Promise<void>
  /** The product language the demo's nodes are set up with (setup.json); absent: none recorded (English). */
  lang?: Locale
}

/** The demo group: dummy `marker` <- script `hook` <- process `web` (HTTP on the node's own address). */
export function demoConfig(port = DEMO_PORT): MainConfig {
  const server = (ip: string, node: string) =>
    `require('http').createServer((q,s)=>s.end('hello from the MCCS demo on ${node}\\n')).listen(${port},'${ip}')`
  return {
    generation: 1,
    types: {},
    // autoStart: the group's online state lives on the coordinator; a coordinator that takes over after
    // the old one was lost (and fenced) starts it on a node it can, which is what moves it.
    groups: [{ name: 'demo', nodes: DEMO_NODES.map((n) => n.name), failoverOnFailure: true, autoStart: true, autoFailback: false }],
    resources: [
      {
        name: 'marker',
        type: 'dummy',
        group: 'demo',
        critical: true,
        attrs: {},
        nodeAttrs: {},
        policy: { monitorIntervalS: 5 },
        monitored: true,
      },
      {
        name: 'hook',
        type: 'script',
        group: 'demo',
        critical: true,
        attrs: { onlineScript: 'demo-hook.sh', offlineScript: 'demo-hook.sh', monitorScript: 'demo-hook.sh' },
        nodeAttrs: {},
        policy: { monitorIntervalS: 5 },
        monitored: true,
      },
      {
        name: 'web',
        type: 'process',
        group: 'demo',
        critical: true,
        monitored: true,
        policy: { monitorIntervalS: 5, restartLimit: 1 },
        attrs: { argv: [process.execPath, '-e', server('127.0.0.1', 'demo1')], stopGraceS: 5 },
        nodeAttrs: Object.fromEntries(DEMO_NODES.map((n) => [n.name, { argv: [process.execPath, '-e', server(n.ip, n.name)] }])),
      },
    ],
    dependencies: [
      { parent: 'hook', child: 'marker' },
      { parent: 'web', child: 'hook' },
    ],
  }
}

/** An operator script with OCF exit codes (0 ok/running, 7 not running): a marker file in its home. */
const hookScript = (home: string) => {
  const marker = path.join(home, 'state', 'demo-hook.up')
  return `#!/bin/sh\n# demo-hook: a resource made of a marker file.\ncase "$1" in\n  start) touch '${marker}' && echo "hook up" ;;\n  stop) rm -f '${marker}' ;;\n  monitor) [ -e '${marker}' ] || exit 7 ;;\nesac\n`
}

/** The demo's fence device: `fence <node>` kills that node's agent and the services it supervises; only
 *  PIDs the demo recorded, each checked against its start time (/proc/<pid>/stat field 22), so a
 *  recycled PID is never killed. `status <node>` is 0 once none of them runs. */
const fenceScript = (root: string) => `#!/bin/sh
root='${root}'
case "$2" in ${DEMO_NODES.map((n) => n.name).join('|')}) ;; *) echo "not a demo node: $2" >&2; exit 2 ;; esac
live() {
  node=$1
  for f in "$root/$node.agent.pid" "$root/$node"/state/proc/*/*/supervisor.pid "$root/$node"/state/proc/*/*/child.pid; do
    [ -f "$f" ] || continue
    read -r pid start < "$f" || continue
    # state and start time; a zombie (Z) is dead already, it only waits for its parent to reap it
    set -- $(cut -d')' -f2- "/proc/$pid/stat" 2>/dev/null | awk '{print $1, $20}')
    [ -n "$2" ] && [ "$1" != Z ] && [ "$2" = "$start" ] && echo "$pid"
  done
}
case "$1" in
  # Like a power-off: the processes die and what a reboot loses goes too (the demo resources keep their
  # state in files: the hook's marker, the dummy's plugin state), so the node comes back with nothing online.
  fence) for p in $(live "$2"); do kill -9 "$p" 2>/dev/null; done; sleep 0.2
    [ -z "$(live "$2")" ] || exit 1
    rm -rf "$root/$2/state/demo-hook.up" "$root/$2/state/plugin-state" ;;
  status) [ -z "$(live "$2")" ] ;;
  *) exit 2 ;;
esac
`

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

async function startTime(pid: number): Promise<string> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8')
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? ''
}

function envNumber(env: NodeJS.ProcessEnv, name: string, dflt: number): number {
  const v = env[name]
  if (v === undefined || v === '') return dflt
  if (!/^\d+$/.test(v) || Number(v) > 65535) throw new Error(`${name} must be a port number (0..65535), not ${JSON.stringify(v)}`)
  return Number(v)
}

/** Writes both homes: hb.json, main.json, the shared key, scripts, a trusted demo license key and licenses. */
async function prepare(root: string, port: number, hbPort: number, lang?: Locale): Promise<Record<string, Bootstrap>> {
  const key = randomBytes(32)
  const hb = {
    // Forgiving timing: a laptop busy building or a shared CI core must not make the two nodes lose each
    // other (with two nodes and no tie-breaker, that takes the group offline on both).
    // Two-node mode (docs/cluster.md): after both were seen, a lost node is fenced (fence-demo.sh) and the
    // survivor keeps or takes the group, instead of both sides giving it up.
    generation: 1,
    cluster: 'demo',
    port: hbPort,
    links: [{ name: 'lo', priority: 0 }],
    timing: { intervalMs: 250, deadMs: 3000 },
    quorum: { twoNode: true },
    nodes: DEMO_NODES.map((n) => ({
      name: n.name,
      addresses: { lo: n.ip },
      // fence-demo.sh kills the node's processes at once: its effect time is short, so the fence delay of a
      // node that runs nothing is 3000 + 2 × 250 + 500 ms = 4 s (core/agent/fencing.ts fenceDelayMs).
      fencing: [{ type: 'fence-script', attrs: { script: 'fence-demo.sh' }, effectMs: 500 }],
    })),
  }
  // The demo's own license signing key: an open build trusts keys listed in config/license-keys.pem.
  const { publicKey, privateKey } = generateKeyPairSync('ed25519')
  const privPem = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string
  await writeFile(path.join(root, 'license-signing-key.pem'), privPem, { mode: 0o600 })
  // The demo's own (empty) settings file: a host's /etc/mccs settings (ports, paths) must not reach it.
  await writeFile(demoSettings(root), '{}\n', { mode: 0o600 })
  const homes: Record<string, Bootstrap> = {}
  for (const n of DEMO_NODES) {
    const home = path.join(root, n.name)
    const b = (homes[n.name] = await loadBootstrap({
      cwd: home,
      env: { MCCS_HOME: home, MCCS_NODE_NAME: n.name, MCCS_CONFIG: demoSettings(root) },
    }))
    await mkdir(b.configDir, { recursive: true })
    await mkdir(b.scriptDir, { recursive: true })
    await mkdir(b.stateDir, { recursive: true })
    await writeFile(path.join(b.configDir, 'hb.json'), JSON.stringify(versionedFile('hb', hb), null, 2) + '\n')
    await writeFile(path.join(b.configDir, 'main.json'), JSON.stringify(versionedFile('main', demoConfig(port)), null, 2) + '\n')
    await createClusterKey(path.join(b.configDir, 'cluster.key'), { key })
    // As `mccs setup --lang` records it: the console's and the command's language on this node.
    if (lang)
      await writeFile(
        path.join(b.configDir, 'setup.json'),
        JSON.stringify({ language: lang, mode: 'cluster', at: new Date().toISOString() }) + '\n',
      )
    for (const [name, text] of [
      ['demo-hook.sh', hookScript(home)],
      ['fence-demo.sh', fenceScript(root)],
    ] as const) {
      await writeFile(path.join(b.scriptDir, name), text)
      await chmod(path.join(b.scriptDir, name), 0o755)
    }
    await appendFile(path.join(b.configDir, TRUSTED_KEYS_FILE), publicKey.export({ type: 'spki', format: 'pem' }) as string)
    const now = Date.now()
    const lic = issueLicense(
      {
        type: 'term',
        node: n.name,
        hostId: 'ANY',
        licensee: 'MCCS demo',
        issued: new Date(now - 60_000).toISOString().replace(/\.\d+Z$/, 'Z'),
        expires: new Date(now + 30 * 86_400_000).toISOString().replace(/\.\d+Z$/, 'Z'),
      },
      privPem,
    )
    await installLicense(b, lic)
  }
  return homes
}

class DemoAgents {
  readonly children: Record<string, ChildProcess> = {}
  stopping = false
  constructor(
    private readonly root: string,
    private readonly homes: Record<string, Bootstrap>,
    private readonly env: NodeJS.ProcessEnv,
    private readonly consolePort: number,
    private readonly io: CliIO,
  ) {}

  async start(node: string): Promise<void> {
    const ip = DEMO_NODES.find((n) => n.name === node)!.ip
    const b = this.homes[node]!
    const child = spawn(process.execPath, ['--no-node-snapshot', path.join(packageRoot(), 'dist/mccs.js'), 'agent'], {
      env: {
        ...this.env,
        MCCS_HOME: b.home,
        MCCS_CONFIG: demoSettings(this.root),
        MCCS_NODE_NAME: node,
        MCCS_CONSOLE_LISTEN: ip,
        MCCS_CONSOLE_PORT: String(this.consolePort),
        AWS_CONFIG_FILE: demoAwsFiles(b.home).config,
        AWS_SHARED_CREDENTIALS_FILE: demoAwsFiles(b.home).credentials,
      },
      // Its own process group: Ctrl-C reaches the demo only, which takes the group offline before stopping agents.
      stdio: 'ignore',
      detached: true,
    })
    this.children[node] = child
    if (child.pid)
      await writeFile(path.join(this.root, `${node}.agent.pid`), `${child.pid} ${await startTime(child.pid).catch(() => '')}\n`)
    child.once('exit', (code, signal) => {
      if (this.stopping || this.children[node] !== child) return
      // Fenced by the other node (or crashed): like a rebooted machine, it comes back.
      this.io.err(`demo: the agent of ${node} exited (${signal ?? `code ${code}`}); it may have been fenced. Restarting it in 2 s.`)
      setTimeout(() => {
        if (!this.stopping) void this.start(node)
      }, 2000).unref()
    })
  }

  async stop(): Promise<void> {
    this.stopping = true
    await Promise.all(
      Object.values(this.children).map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve()
            const kill = setTimeout(() => c.kill('SIGKILL'), 10_000)
            c.once('exit', () => {
              clearTimeout(kill)
              resolve()
            })
            c.kill('SIGTERM')
          }),
      ),
    )
  }
}

const socket = (b: Bootstrap) => b.controlSocket

async function waitForCluster(homes: Record<string, Bootstrap>, timeoutMs: number): Promise<AgentStatus> {
  const end = Date.now() + timeoutMs
  for (;;) {
    const sts = await Promise.all(DEMO_NODES.map((n) => rpc<AgentStatus>(socket(homes[n.name]!), 'status', {}, 3000).catch(() => null)))
    const st = sts[0]
    // Both settled: one coordinator, one follower, each hearing the other.
    const settled = sts.every(
      (s) => s?.membership?.quorate && s.membership.peers.every((p) => p.up) && ['coordinator', 'follower'].includes(s.membership.role),
    )
    if (settled && st && new Set(sts.map((s) => s!.membership!.coordinator)).size === 1) return st
    if (Date.now() > end)
      throw new Error(
        `the two demo agents did not form a cluster within ${timeoutMs / 1000} s (see ${DEMO_NODES.map((n) => homes[n.name]!.logDir + '/mccs.log').join(', ')})`,
      )
    await sleep(200)
  }
}

/** Refusals that pass once the cluster has settled (a coordinator acts, its first probes end). */
export const TRANSIENT: ReadonlySet<string> = new Set<ErrorCode>(['MCCS_ERR_GROUP_BUSY', 'MCCS_ERR_NO_QUORUM', 'MCCS_ERR_NOT_COORDINATOR'])

/** Operator commands are refused until a coordinator acts; retry those refusals for a while. */
async function command(b: Bootstrap, cmd: Record<string, unknown>, timeoutMs: number): Promise<CommandReply> {
  const end = Date.now() + timeoutMs
  for (;;) {
    const r = await rpc<CommandReply>(
      socket(b),
      'command',
      { cmd: { ...cmd, user: currentUser() }, wait: true, timeoutMs },
      timeoutMs + 15_000,
    ).catch(
      (e: Error & { code?: string }) =>
        ({ outcome: { status: 'rejected' as const, code: e.code ?? 'MCCS_ERR_INTERNAL', reason: e.message } }) as unknown as CommandReply,
    )
    // Right after it takes over, the coordinator probes every resource (the group is busy meanwhile).
    const o = r.outcome as { status: string; code?: string; reason?: string }
    const transient = o.code !== undefined && TRANSIENT.has(o.code)
    if (o.status !== 'rejected' || Date.now() > end || !transient) return r
    await sleep(500)
  }
}

/** Polls the console until it answers over HTTPS (any status: the UI files may be missing, the server is up), for up to `ms`. */
async function consoleAnswers(url: string, ms: number, stopped: () => boolean): Promise<boolean> {
  const end = Date.now() + ms
  while (Date.now() < end && !stopped()) {
    const ok = await new Promise<boolean>((resolve) => {
      const req = https.get(url, { rejectUnauthorized: false, timeout: 2000 }, (res) => {
        res.resume()
        resolve(typeof res.statusCode === 'number')
      })
      req.on('error', () => resolve(false))
      req.on('timeout', () => {
        req.destroy()
        resolve(false)
      })
    })
    if (ok) return true
    await sleep(500)
  }
  return false
}

/** Safety net after the agents stopped: no service the demo's agents started may outlive the demo. */
async function stopLeftovers(homes: Record<string, Bootstrap>): Promise<void> {
  for (const b of Object.values(homes)) {
    const pm = new ProcManager({ stateDir: path.join(b.stateDir, 'proc') })
    try {
      for (const s of await pm.reattach().catch(() => []))
        if (s.running) await pm.stop(s.resource, s.name, { graceMs: 2000 }).catch(() => {})
    } finally {
      pm.close()
    }
  }
}

const demoSettings = (root: string): string => path.join(root, 'settings.json')

const DEMO_VIP = '10.0.1.50'

/** The printout's walk-through of the console (issue 18, Acceptance 4): what a newcomer otherwise had to
 *  guess — which address, which card, which command, which ENI, and the order of the dependencies. The two
 *  demo nodes share this host's network stack, so a virtual IP on one card is seen by both nodes' monitors:
 *  each node needs a card of its own, or the other reports the address online where it does not belong and
 *  the group faults. */
export function tryInConsole(withEc2: boolean, ifaces = hostCards(), root = process.getuid?.() === 0, l: Locale = 'en'): string {
  const [a, b] = ifaces
  const cards = a && b ? t(l, 'cli.demo.p.cards', { a, b }) : null
  // The type names (nic, aws-sip, …), addresses and the command are the same in every language; the English
  // is what test/console/new-user-journey.test.ts copies from, as a newcomer would.
  const lines = [
    t(l, withEc2 ? 'cli.demo.p.tryEc2' : 'cli.demo.p.try'),
    t(l, 'cli.demo.p.order1'),
    t(l, 'cli.demo.p.order2'),
    `    nic      ${t(l, 'cli.demo.p.nic', { cards: cards ?? t(l, 'cli.demo.p.cardPerNode') })}`,
    ...(withEc2 ? [`    aws-sip  ${t(l, 'cli.demo.p.sip', { ip: DEMO_VIP, subnet: '10.0.1.0/24' })}`] : []),
    `    address  ${t(l, 'cli.demo.p.address', { ip: `${DEMO_VIP}/32`, below: withEc2 ? 'aws-sip' : 'nic' })}`,
    `    process  ${t(l, 'cli.demo.p.process')}`,
    `               ${process.execPath}`,
    `               -e`,
    `               require('http').createServer((q,s)=>s.end('hi\\n')).listen(8080,'${DEMO_VIP}')`,
    t(l, 'cli.demo.p.then', { url: `http://${DEMO_VIP}:8080/` }),
  ]
  if (!cards) lines.push(a ? t(l, 'cli.demo.p.oneCard', { card: a }) : t(l, 'cli.demo.p.noCard'))
  else lines.push(t(l, 'cli.demo.p.shared'))
  if (!root) lines.push(t(l, 'cli.demo.p.root'))
  return lines.join('\n')
}

/** This host's network cards that a nic resource accepts (not loopback), in name order. */
function hostCards(): string[] {
  return Object.entries(os.networkInterfaces())
    .filter(([, addrs]) => addrs?.some((x) => !x.internal))
    .map(([name]) => name)
    .sort()
}

/** What the demo prints once its group is up: where everything is and what to try, in the product language. */
function printout(
  l: Locale,
  p: {
    root: string
    hbPort: number
    port: number
    where: string | null
    ip: string
    homes: Record<string, Bootstrap>
    ec2Url: string | null
    refused: { reason?: string; said?: Said } | undefined
  },
): string {
  const chain = `dummy 'marker' <- script 'hook' <- process 'web'`
  const why = p.refused?.reason ? say(l, p.refused.said, p.refused.reason) : t(l, 'cli.demo.p.seeLogs')
  // Each command line and its comment: the comments in the language, aligned as the commands are.
  const cmd = (line: string, key: Parameters<typeof t>[1]) => `  ${line.padEnd(39)}# ${t(l, key)}`
  return [
    '',
    t(l, 'cli.demo.p.head', { dir: p.root }),
    t(l, 'cli.demo.p.nodes', { nodes: DEMO_NODES.map((n) => `${n.name} (${n.ip})`).join(', '), hb: p.hbPort, channel: p.hbPort + 4 }),
    p.where ? t(l, 'cli.demo.p.groupOnline', { node: p.where, chain }) : t(l, 'cli.demo.p.groupNot', { why, chain }),
    t(l, 'cli.demo.p.licenses', { key: path.join(p.root, 'license-signing-key.pem') }),
    t(l, 'cli.demo.p.fencing'),
    ...(p.ec2Url
      ? [
          t(l, 'cli.demo.p.ec2', { url: p.ec2Url }),
          t(l, 'cli.demo.p.ec2Profile', { profile: DEMO_AWS_PROFILE }),
          `    AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test aws --endpoint-url ${p.ec2Url} --region us-east-1 ec2 describe-instances`,
        ]
      : []),
    tryInConsole(p.ec2Url !== null, hostCards(), process.getuid?.() === 0, l),
    t(l, 'cli.demo.p.terminal'),
    `  export MCCS_CONFIG=${demoSettings(p.root)} MCCS_HOME=${p.homes.demo1!.home} MCCS_NODE_NAME=demo1     # ${t(l, 'cli.demo.p.or', { home: p.homes.demo2!.home })}`,
    cmd('./bin/mccs status', 'cli.demo.p.cStatus'),
    `  curl http://${p.ip}:${p.port}/              # ${t(l, 'cli.demo.p.cCurl')}`,
    cmd('./bin/mccs group switch demo --wait', 'cli.demo.p.cSwitch'),
    `  kill -STOP $(cut -d' ' -f1 ${p.root}/${p.where ?? 'demo1'}.agent.pid)   # ${t(l, 'cli.demo.p.cStop1')}`,
    `${' '.repeat(41)}# ${t(l, 'cli.demo.p.cStop2')}`,
    cmd('./bin/mccs license show', 'cli.demo.p.cLicense'),
    cmd('./bin/mccs support --out /tmp/s.tar.gz', 'cli.demo.p.cSupport'),
    `  tail -f ${p.homes.demo1!.logDir}/mccs.log ${p.homes.demo1!.logDir}/operation.log`,
    t(l, 'cli.demo.p.ctrlC'),
  ].join('\n')
}

export async function demoCommand(io: CliIO, o: DemoOptions = {}): Promise<number> {
  const env: NodeJS.ProcessEnv = { ...(o.env ?? process.env) }
  delete env.MCCS_BOOTSTRAP
  delete env.MCCS_CONFIG
  delete env.NODE_OPTIONS
  const port = o.port ?? DEMO_PORT
  let hbPort: number, consolePort: number, ec2Port: number
  try {
    hbPort = envNumber(env, 'MCCS_DEMO_HB_PORT', 14321)
    consolePort = envNumber(env, 'MCCS_CONSOLE_PORT', 11080)
    ec2Port = envNumber(env, 'MCCS_DEMO_EC2_PORT', 0)
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new Error(`--port must be a port number, not ${o.port}`)
  } catch (e) {
    io.err(`mccs demo: ${(e as Error).message}`)
    return EXIT.USAGE
  }
  const root = o.dir ?? (await mkdtemp(path.join(os.tmpdir(), 'mccs-demo-')))
  await mkdir(root, { recursive: true })
  const homes = await prepare(root, port, hbPort, o.lang)
  const agents = new DemoAgents(root, homes, env, consolePort, io)
  let stopped = false
  const until =
    o.until ??
    new Promise<void>((resolve) => {
      process.once('SIGINT', () => resolve())
      process.once('SIGTERM', () => resolve())
    })
  void until.then(() => {
    stopped = true
  })
  let ec2: { url: string; close(): Promise<void> } | null = null
  try {
    // The EC2-compatible endpoint, for trying the AWS resource types against it.
    const sim = await import('../ec2sim/server.js')
    ec2 = await sim.startEc2Sim({
      host: '127.0.0.1',
      port: ec2Port,
      stateFile: path.join(root, 'ec2.json'),
      seed: sim.seedForNodes(DEMO_NODES.map((n) => n.name)),
    })
    await configureAws(homes, ec2.url)
  } catch (e) {
    io.err(t(o.lang ?? 'en', 'cli.demo.ec2Failed', { reason: (e as Error).message }))
  }
  for (const n of DEMO_NODES) await agents.start(n.name)
  let code: number = EXIT.OK
  try {
    await Promise.race([waitForCluster(homes, 60_000), until])
    if (stopped) return EXIT.OK
    // The coordinator starts the group itself (autoStart); ask for it too in case it is not on its way.
    const online = (s: AgentStatus) => {
      const g = s.groups.find((x) => x.name === 'demo')
      return g?.activeNode && g.nodes[g.activeNode] === 'online' ? g.activeNode : null
    }
    const busy = (s: AgentStatus) => (s.groups.find((x) => x.name === 'demo')?.busy ?? 0) > 0
    let st = await rpc<AgentStatus>(socket(homes.demo1!), 'status', {}, 5000)
    // Asked only once autoStart had its time: asked while the coordinator's own start runs, the command was
    // refused ("actions are in progress") and that warning was the first thing the console's log showed.
    for (const end = Date.now() + 15_000; !online(st) && !busy(st) && Date.now() < end && !stopped; await sleep(200))
      st = await rpc<AgentStatus>(socket(homes.demo1!), 'status', {}, 5000)
    for (const end = Date.now() + 30_000; !online(st) && busy(st) && Date.now() < end && !stopped; await sleep(200))
      st = await rpc<AgentStatus>(socket(homes.demo1!), 'status', {}, 5000)
    const reply = online(st) || stopped ? null : await command(homes.demo1!, { type: 'groupOnline', group: 'demo' }, 60_000)
    for (const end = Date.now() + 30_000; ; await sleep(200)) {
      st = await rpc<AgentStatus>(socket(homes.demo1!), 'status', {}, 5000)
      if (online(st) || Date.now() > end || stopped) break
    }
    const where = online(st)
    const ip = DEMO_NODES.find((n) => n.name === where)?.ip ?? '127.0.0.1'
    const l = o.lang ?? 'en'
    io.out(renderStatus(st))
    io.out(
      printout(l, {
        root,
        hbPort,
        port,
        where,
        ip,
        homes,
        ec2Url: ec2?.url ?? null,
        refused: reply?.outcome as { reason?: string; said?: Said } | undefined,
      }),
    )
    // The console is printed once it answers (it is part of the agent when this build has it).
    const url = `https://127.0.0.1:${consolePort}/main`
    void consoleAnswers(url, 120_000, () => stopped).then((ok) => {
      if (ok && !stopped) io.out(t(o.lang ?? 'en', 'cli.demo.console', { url }))
    })
    await until
  } catch (e) {
    io.err(`mccs demo: ${(e as Error).message}`)
    code = EXIT.FAILED
  } finally {
    stopped = true
    agents.stopping = true
    io.err(t(o.lang ?? 'en', 'cli.demo.stopping'))
    await command(homes.demo1!, { type: 'groupOffline', group: 'demo' }, 30_000).catch(() => {})
    await agents.stop()
    await stopLeftovers(homes)
    await ec2?.close().catch(() => {})
    io.err(t(o.lang ?? 'en', 'cli.demo.stopped', { dir: root }))
  }
  return code
}
