// mccs setup: the first setup of this node, as the manual's installer asks it (3.2.1: language, single
// node or cluster; 5.4.2.1: the license now or later), plus the cluster's name, this node's name and its
// heartbeat links. Interactive on a terminal (or with --interactive), otherwise from flags:
//   mccs setup --name n1 --cluster c1 --link l0=10.0.0.1 [--link l1=10.1.0.1] [--lang ko|en] [--mode single|cluster]
//              [--license <file> | --license-later]
//   mccs setup --join <member address>[:port] --token-file <file|-> [--link l0=<addr>] [--lang ko|en] [--license <file>]
//   (the token is never taken on the command line: any user could read it in the process list and join first)
// and mccs node add <name> on a member (the token the join needs; core/setup/join-server.ts).
import { readFile } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import { parseArgs } from 'node:util'
import { loadBootstrap, type Bootstrap } from '../config/bootstrap.js'
import { formatIssues, issuesOf } from '../config/issue.js'
import { isMccsError, MccsError } from '../errors.js'
import { readLicenseFile } from '../license/store.js'
import { checkLinks, checkName, parseLinkFlag, setupFirstNode, type LinkAnswer, type SetupAnswers } from '../setup/first-node.js'
import { checkOnHost, hostAddresses } from '../setup/host-addresses.js'
import { checkLanguage } from '../setup/node-files.js'
import { joinCluster, type JoinOptions } from '../setup/join-client.js'
import { offerJoin } from '../setup/join-server.js'
import { rpc } from './control-client.js'
import { currentUser } from './user.js'
import { EXIT } from './exit-codes.js'
import type { CliIO } from './io.js'

export const SETUP_USAGE = `usage: mccs setup                                   (asks, on a terminal)
       mccs setup --name <node> --cluster <name> --link <link>=<address> [--link ...] [--lang ko|en]
                  [--mode cluster|single] [--license <file> | --license-later]
       mccs setup --join <member address>[:port] --token-file <file|-> [--link <link>=<address>]
                  [--lang ko|en] [--license <file>]
       mccs setup --rename <new name>      (on a node the cluster renamed with mccs node rename, its agent stopped)
  --lang      the language of MCCS: ko (Korean, the default) or en (English)
  --mode      cluster (other nodes join with mccs node add + mccs setup --join; the default) or single (one server)
  --link      a heartbeat link and this node's address on it, in priority order (first = preferred)
  --join      join a running cluster through a member where mccs node add <name> waits
options: --interactive (ask even when not on a terminal)`

const OPTIONS = {
  lang: { type: 'string' },
  mode: { type: 'string' },
  name: { type: 'string' },
  cluster: { type: 'string' },
  link: { type: 'string', multiple: true },
  license: { type: 'string' },
  'license-later': { type: 'boolean' },
  join: { type: 'string' },
  token: { type: 'string' },
  'token-file': { type: 'string' },
  rename: { type: 'string' },
  interactive: { type: 'boolean' },
  json: { type: 'boolean' },
} as const

/** A refusal: the field and the reason, and the exit code the catalogue gives it. */
function refused(io: CliIO, err: unknown): number {
  if (!isMccsError(err)) throw err
  const issues = issuesOf(err)
  io.err(`mccs setup: refused, nothing changed: ${err.message}${issues?.length ? `\n${formatIssues(issues)}` : ''}`)
  return exitFor(err)
}

/** Refusals exit 3, an invalid configuration 6 (the codes scripts rely on; README). */
const exitFor = (err: MccsError): number => (err.code.startsWith('MCCS_ERR_CONFIG') ? EXIT.INVALID : EXIT.REJECTED)

async function readLicense(file: string | undefined): Promise<string | undefined> {
  if (file === undefined) return undefined
  return readLicenseFile(file, '--license')
}

async function readToken(v: { token?: string; 'token-file'?: string }): Promise<string> {
  // A secret on the command line is readable by every user of the host (ps) while the join runs.
  if (v.token !== undefined)
    throw new MccsError(
      'MCCS_ERR_INVALID',
      'a token on the command line shows in the process list: give it with --token-file <file>, or --token-file - to read it from standard input',
      { field: '--token' },
    )
  const f = v['token-file']
  if (f === undefined)
    throw new MccsError(
      'MCCS_ERR_INVALID',
      'give the token mccs node add printed with --token-file <file>, or --token-file - (standard input)',
      { field: '--token-file' },
    )
  const text =
    f === '-'
      ? await readStdin()
      : await readFile(f, 'utf8').catch((e: NodeJS.ErrnoException) => {
          throw new MccsError('MCCS_ERR_INVALID', `cannot read ${f}: ${e.code ?? e.message}`, { field: '--token-file' })
        })
  return text.trim()
}

async function readStdin(): Promise<string> {
  let s = ''
  for await (const c of process.stdin) s += String(c)
  return s
}

export async function setupCommand(argv: string[], io: CliIO, b?: Bootstrap): Promise<number> {
  let parsed
  try {
    parsed = parseArgs({ args: argv, allowPositionals: true, strict: true, options: OPTIONS })
    if (parsed.positionals.length) throw new Error(`unexpected ${parsed.positionals.join(' ')}`)
  } catch (e) {
    io.err(`mccs setup: ${(e as Error).message}\n${SETUP_USAGE}`)
    return EXIT.USAGE
  }
  const v = parsed.values
  const boot = b ?? (await loadBootstrap())
  if (v.rename !== undefined) {
    try {
      const other = Object.keys(v).filter((k) => k !== 'rename' && k !== 'json')
      if (other.length)
        throw new MccsError('MCCS_ERR_INVALID', 'is not for a rename: give --rename <new name> alone', { field: `--${other[0]}` })
      return await renameHost(boot, v.rename, io, v.json === true)
    } catch (err) {
      return refused(io, err)
    }
  }
  const flags = ['name', 'cluster', 'link', 'join', 'mode', 'token', 'token-file'].some((k) => v[k as keyof typeof v] !== undefined)
  try {
    if (v.interactive || (!flags && process.stdin.isTTY)) return await interactive(boot, io)
    if (!flags) {
      io.err(`mccs setup: not on a terminal: give the answers as flags (or --interactive)\n${SETUP_USAGE}`)
      return EXIT.USAGE
    }
    const links = (v.link ?? []).map((l, i) => parseLinkFlag(l, i))
    if (v.join !== undefined) {
      for (const k of ['name', 'cluster', 'mode'] as const) {
        if (v[k] !== undefined)
          throw new MccsError(
            'MCCS_ERR_INVALID',
            `is not for a join: the member's mccs node add <name> names the node, and the cluster is the member's`,
            { field: `--${k}` },
          )
      }
      const o: JoinOptions = { address: v.join, token: await readToken(v), ...(links.length ? { links } : {}) }
      if (v.lang !== undefined) o.language = v.lang
      const lic = await readLicense(v.license)
      if (lic !== undefined) o.license = lic
      return await join(boot, o, io, v.json === true)
    }
    if (v.license !== undefined && v['license-later'])
      throw new MccsError('MCCS_ERR_INVALID', 'give a license file or --license-later, not both', { field: '--license' })
    const a: SetupAnswers = { links }
    if (v.lang !== undefined) a.language = v.lang
    if (v.mode !== undefined) a.mode = v.mode
    if (v.name !== undefined) a.name = v.name
    if (v.cluster !== undefined) a.cluster = v.cluster
    const lic = await readLicense(v.license)
    if (lic !== undefined) a.license = lic
    return await first(boot, a, io, v.json === true)
  } catch (err) {
    return refused(io, err)
  }
}

async function first(b: Bootstrap, a: SetupAnswers, io: CliIO, json: boolean): Promise<number> {
  const r = await setupFirstNode(b, a)
  if (json) {
    io.out(JSON.stringify(r, null, 2))
    return EXIT.OK
  }
  io.out(
    `node ${r.node} set up: cluster ${r.cluster}, ${r.mode === 'single' ? 'single-node cluster' : 'cluster (add nodes with mccs node add <name>)'}, language ${r.language}`,
  )
  io.out(`  wrote ${r.files.join(', ')}`)
  if (!r.licensed) io.out('  no license yet: limited mode (no automatic failover or auto-start) until mccs license install <file>')
  io.out('next: systemctl start mccs_agent   (or run its ExecStart), then mccs status')
  return EXIT.OK
}

/** `mccs setup --rename <new>`: this host takes the name the cluster gave its node (core/setup/rename-node.ts). */
async function renameHost(b: Bootstrap, to: string, io: CliIO, json: boolean): Promise<number> {
  const running = await rpc(b.controlSocket, 'status', {}, 3000).then(
    () => true,
    () => false,
  )
  const { renameThisNode } = await import('../setup/rename-node.js')
  const r = await renameThisNode(b, to, running)
  if (json) {
    io.out(JSON.stringify(r, null, 2))
    return EXIT.OK
  }
  io.out(
    r.files.length
      ? `this node is now ${r.to} (was ${r.from}): wrote ${r.files.join(', ')}`
      : `this node is already ${r.to}: nothing to write`,
  )
  if (r.licenseFor)
    io.out(
      `  the license here is for node ${r.licenseFor}: install one issued for ${r.to} (mccs license install <file>), or the node runs in limited mode`,
    )
  io.out(`next: start this node's agent (systemctl start mccs_agent): it joins as ${r.to} and takes the cluster's configuration`)
  return EXIT.OK
}

async function join(b: Bootstrap, o: JoinOptions, io: CliIO, json: boolean): Promise<number> {
  const r = await joinCluster(b, o)
  if (json) {
    io.out(JSON.stringify(r, null, 2))
    return EXIT.OK
  }
  io.out(
    `joined cluster ${r.cluster} as ${r.node} (${Object.entries(r.addresses)
      .map(([l, a]) => `${a} on ${l}`)
      .join(', ')}); hb.json generation ${r.generation}, language ${r.language}`,
  )
  if (r.live) {
    io.out(`next: start this node's agent (systemctl start mccs_agent); ${r.members.join(', ')} already know this node`)
    return EXIT.OK
  }
  io.out(`next: start this node's agent (systemctl start mccs_agent), and restart the agent of ${r.members.join(', ')} one at a time`)
  io.out('  (a running agent reads hb.json at its start: until then it does not know the new node)')
  return EXIT.OK
}

/** Questions on a terminal (or piped answers with --interactive); each answer is checked before the next. */
async function interactive(b: Bootstrap, io: CliIO): Promise<number> {
  const rl = createInterface({ input: process.stdin, terminal: false })
  const lines = rl[Symbol.asyncIterator]()
  const ask = async <T>(q: string, def: string | undefined, check: (s: string) => T | Promise<T>): Promise<T> => {
    for (;;) {
      process.stdout.write(`${q}${def !== undefined ? ` [${def}]` : ''}: `)
      const n = await lines.next()
      if (n.done) throw new MccsError('MCCS_ERR_INVALID', `no answer to "${q}" (input ended)`, { field: 'stdin' })
      const ans = String(n.value).trim() || def || ''
      try {
        return await check(ans)
      } catch (e) {
        if (!isMccsError(e)) throw e
        io.err(`  ${e.reason}`)
      }
    }
  }
  const yes = (s: string) => {
    if (/^(y|yes)$/i.test(s)) return true
    if (/^(n|no)$/i.test(s)) return false
    throw new MccsError('MCCS_ERR_INVALID', 'answer y or n', { field: 'answer' })
  }
  try {
    const language = await ask('Language / 언어 (ko: 한국어, en: English)', 'ko', (s) => checkLanguage(s))
    if (await ask('Join a running cluster (mccs node add printed a token on a member)? (y/n)', 'n', yes)) {
      const address = await ask('Member address', undefined, (s) => s)
      const token = await ask('Token', undefined, (s) => s)
      const lic = await ask('License file (empty: install it later)', '', (s) => (s ? readLicense(s) : undefined))
      return await join(b, { address, token, language, ...(lic !== undefined ? { license: lic } : {}) }, io, false)
    }
    const mode = (await ask('Single-node cluster (MCCS runs on this one server only)? (y/n)', 'n', yes)) ? 'single' : 'cluster'
    const name = await ask("This node's name", b.nodeName, (s) => checkName(s, 'name', 'the node name'))
    const cluster = await ask('Cluster name', 'mccs', (s) => checkName(s, 'cluster', 'the cluster name'))
    const have = hostAddresses()
    const suggest = have.find((a) => a.family === 4 && a.ifname !== 'lo')?.address
    const links: LinkAnswer[] = []
    do {
      const i = links.length
      const lname = await ask(`Heartbeat link ${i + 1}: name`, `link${i + 1}`, (s) => {
        checkName(s, 'link', 'a link name')
        if (links.some((l) => l.name === s)) throw new MccsError('MCCS_ERR_INVALID', `link ${s} is given already`, { field: 'link' })
        return s
      })
      const address = await ask(`  this node's address on ${lname}`, i === 0 ? suggest : undefined, (s) => {
        checkOnHost(s, lname, have)
        if (links.some((l) => l.address === s))
          throw new MccsError('MCCS_ERR_INVALID', `${s} is link ${links.find((l) => l.address === s)!.name}'s already`, { field: lname })
        return s
      })
      links.push({ name: lname, address })
    } while (links.length < 8 && (await ask('Another heartbeat link? (y/n)', 'n', yes)))
    checkLinks(links, have)
    const license = await ask('License file (empty: install it later; limited mode until then)', '', (s) =>
      s ? readLicense(s) : undefined,
    )
    io.out(
      `\nnode ${name} of cluster ${cluster} (${mode}), language ${language}, links ${links.map((l) => `${l.name}=${l.address}`).join(' ')}${license ? ', with a license' : ', license later'}`,
    )
    if (!(await ask('Write this configuration? (y/n)', 'y', yes))) {
      io.err('nothing written')
      return EXIT.FAILED
    }
    return await first(b, { language, mode, name, cluster, links, ...(license !== undefined ? { license } : {}) }, io, false)
  } finally {
    rl.close()
  }
}

export const NODE_ADD_USAGE =
  'usage: mccs node add <name> [--timeout S]   (prints a one-time token for mccs setup --join on the new host; waits for it)'

/** mccs node add <name>: on a member, the token for the new host, then waits for its join. */
export async function nodeAddCommand(args: string[], o: { timeoutS?: number; json: boolean }, io: CliIO): Promise<number> {
  const [name, ...extra] = args
  if (!name || extra.length) {
    io.err(NODE_ADD_USAGE)
    return EXIT.USAGE
  }
  if (o.timeoutS !== undefined && !(Number.isFinite(o.timeoutS) && o.timeoutS > 0 && o.timeoutS <= 86400)) {
    io.err('mccs node add: --timeout must be a number of seconds above 0 (at most 86400)')
    return EXIT.USAGE
  }
  const b = await loadBootstrap()
  try {
    // A running agent of a cluster takes the new node live (mccs hb node add, through the coordinator).
    const inForce = await rpc<{ hb: { nodes: unknown[] } }>(b.controlSocket, 'config.export', {}, 3000).catch(() => null)
    const live = !!inForce && inForce.hb.nodes.length > 1
    const done = await offerJoin({
      b,
      name,
      ...(live
        ? {
            commit: async (node, expectGeneration) =>
              (
                await rpc<{ generation: number }>(
                  b.controlSocket,
                  'hb.change',
                  { change: { op: 'addNode', name: node.name, addresses: node.addresses }, user: currentUser(), expectGeneration },
                  60_000,
                )
              ).generation,
          }
        : {}),
      timeoutMs: (o.timeoutS ?? 600) * 1000,
      say: (m) => io.err(m),
      offered: (x) => {
        if (o.json) {
          io.out(JSON.stringify({ token: x.token, node: x.node, cluster: x.cluster, listen: x.listen, port: x.port }))
          return
        }
        io.out(`join token for ${x.node} (it works once, while this command waits; up to ${o.timeoutS ?? 600} s):`)
        io.out(`  ${x.token}`)
        io.out('on the new host (MCCS installed, not set up) run:')
        io.out(`  mccs setup --join ${x.listen[0]}${x.port === b.heartbeatPort + 5 ? '' : `:${x.port}`} --token-file -`)
        io.out('  and paste the token (or give a file holding it: --token-file <file>)')
        io.out(`waiting for ${x.node} on ${x.listen.map((a) => `${a}:${x.port}`).join(', ')} ...`)
      },
    })
    const running = await rpc(b.controlSocket, 'status', {}, 3000).then(
      () => true,
      () => false,
    )
    if (o.json) {
      io.out(JSON.stringify(done))
      return EXIT.OK
    }
    if (done.live) {
      io.out(
        `${done.node} joined (${Object.entries(done.addresses)
          .map(([l, a]) => `${a} on ${l}`)
          .join(', ')}); hb.json generation ${done.generation} in force on every member`,
      )
      io.out(`next: start ${done.node}'s agent (systemctl start mccs_agent on it); no other agent needs a restart`)
      return EXIT.OK
    }
    io.out(
      `${done.node} joined (${Object.entries(done.addresses)
        .map(([l, a]) => `${a} on ${l}`)
        .join(', ')}); hb.json generation ${done.generation} written on ${b.nodeName}`,
    )
    if (done.others.length)
      io.out(
        `  the other members (${done.others.join(', ')}) need this hb.json too: copy ${b.configDir}/hb.json to each (it holds no secret)`,
      )
    io.out(
      `next: ${running ? `restart this node's agent (systemctl restart mccs_agent: it reads hb.json at its start), ` : ''}start ${done.node}'s agent${done.others.length ? ", then restart the other members' agents one at a time" : ''}`,
    )
    return EXIT.OK
  } catch (err) {
    if (!isMccsError(err)) throw err
    io.err(`mccs node add: refused: ${err.message}`)
    return exitFor(err)
  }
}
