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
import { t, type Locale } from '../i18n/messages.js'
import { normalize, pickLocale } from '../i18n/locale.js'
import { setupLanguage } from './lang.js'

/** The usage text in English; the command prints it in the language it speaks. */
export const SETUP_USAGE = t('en', 'cli.setup.usage')

/** What setup speaks: the language it is given (--lang, MCCS_LANG), else the product language when this node
 *  was set up before, else Korean, the installer's default (manual 3.2.1). Once the answers name a language,
 *  the rest is in that one. */
async function setupLocale(flag: unknown, b: Bootstrap | undefined): Promise<Locale> {
  const given = normalize(typeof flag === 'string' ? flag : undefined) ?? normalize(process.env.MCCS_LANG)
  if (given) return given
  const recorded = b ? normalize(await setupLanguage(b.configDir)) : undefined
  return recorded ?? 'ko'
}

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
function refused(io: CliIO, err: unknown, l: Locale): number {
  if (!isMccsError(err)) throw err
  const issues = issuesOf(err)
  io.err(`${t(l, 'cli.setup.refused', { message: err.message })}${issues?.length ? `\n${formatIssues(issues)}` : ''}`)
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
    const l = await setupLocale(undefined, b ?? (await loadBootstrap().catch(() => undefined)))
    io.err(`mccs setup: ${(e as Error).message}\n${t(l, 'cli.setup.usage')}`)
    return EXIT.USAGE
  }
  const v = parsed.values
  const boot = b ?? (await loadBootstrap())
  const l = await setupLocale(v.lang, boot)
  if (v.rename !== undefined) {
    try {
      const other = Object.keys(v).filter((k) => k !== 'rename' && k !== 'json' && k !== 'lang')
      if (other.length)
        throw new MccsError('MCCS_ERR_INVALID', 'is not for a rename: give --rename <new name> alone (with --lang or --json if wanted)', {
          field: `--${other[0]}`,
        })
      return await renameHost(boot, v.rename, io, v.json === true, l)
    } catch (err) {
      return refused(io, err, l)
    }
  }
  const flags = ['name', 'cluster', 'link', 'join', 'mode', 'token', 'token-file'].some((k) => v[k as keyof typeof v] !== undefined)
  try {
    if (v.interactive || (!flags && process.stdin.isTTY)) return await interactive(boot, io)
    if (!flags) {
      io.err(`${t(l, 'cli.setup.notTerminal')}\n${t(l, 'cli.setup.usage')}`)
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
    return refused(io, err, l)
  }
}

async function first(b: Bootstrap, a: SetupAnswers, io: CliIO, json: boolean): Promise<number> {
  const r = await setupFirstNode(b, a)
  if (json) {
    io.out(JSON.stringify(r, null, 2))
    return EXIT.OK
  }
  const l = pickLocale(r.language) // the language just chosen for the product
  io.out(
    t(l, 'cli.setup.done', {
      node: r.node,
      cluster: r.cluster,
      mode: t(l, r.mode === 'single' ? 'cli.setup.modeSingle' : 'cli.setup.modeCluster'),
      language: r.language,
    }),
  )
  io.out(t(l, 'cli.setup.wrote', { files: r.files.join(', ') }))
  if (!r.licensed) io.out(t(l, 'cli.setup.noLicense'))
  io.out(t(l, 'cli.setup.next'))
  return EXIT.OK
}

/** `mccs setup --rename <new>`: this host takes the name the cluster gave its node (core/setup/rename-node.ts). */
async function renameHost(b: Bootstrap, to: string, io: CliIO, json: boolean, l: Locale): Promise<number> {
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
      ? t(l, 'cli.setup.renamed', { to: r.to, from: r.from, files: r.files.join(', ') })
      : t(l, 'cli.setup.renameNothing', { to: r.to }),
  )
  if (r.licenseFor) io.out(t(l, 'cli.setup.renameLicense', { licenseFor: r.licenseFor, to: r.to }))
  io.out(t(l, 'cli.setup.renameNext', { to: r.to }))
  return EXIT.OK
}

async function join(b: Bootstrap, o: JoinOptions, io: CliIO, json: boolean): Promise<number> {
  const r = await joinCluster(b, o)
  if (json) {
    io.out(JSON.stringify(r, null, 2))
    return EXIT.OK
  }
  const l = pickLocale(r.language)
  io.out(
    t(l, 'cli.setup.joined', {
      cluster: r.cluster,
      node: r.node,
      addresses: addressesText(l, r.addresses),
      generation: r.generation,
      language: r.language,
    }),
  )
  if (r.live) {
    io.out(t(l, 'cli.setup.joinNextLive', { members: r.members.join(', ') }))
    return EXIT.OK
  }
  io.out(t(l, 'cli.setup.joinNextRestart', { members: r.members.join(', ') }))
  io.out(t(l, 'cli.setup.joinNextWhy'))
  return EXIT.OK
}

/** Questions on a terminal (or piped answers with --interactive); each answer is checked before the next. */
async function interactive(b: Bootstrap, io: CliIO): Promise<number> {
  let l: Locale = await setupLocale(undefined, b) // until the first answer names the language
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
    if (/^(y|yes|예|네)$/i.test(s)) return true
    if (/^(n|no|아니요|아니오)$/i.test(s)) return false
    throw new MccsError('MCCS_ERR_INVALID', t(l, 'cli.setup.answerYn'), { field: 'answer' })
  }
  try {
    const language = await ask('Language / 언어 (ko: 한국어, en: English)', 'ko', (s) => checkLanguage(s))
    l = pickLocale(language)
    if (await ask(t(l, 'cli.setup.qJoin'), 'n', yes)) {
      const address = await ask(t(l, 'cli.setup.qMember'), undefined, (s) => s)
      const token = await ask(t(l, 'cli.setup.qToken'), undefined, (s) => s)
      const lic = await ask(t(l, 'cli.setup.qLicenseJoin'), '', (s) => (s ? readLicense(s) : undefined))
      return await join(b, { address, token, language, ...(lic !== undefined ? { license: lic } : {}) }, io, false)
    }
    const mode = (await ask(t(l, 'cli.setup.qSingle'), 'n', yes)) ? 'single' : 'cluster'
    const name = await ask(t(l, 'cli.setup.qName'), b.nodeName, (s) => checkName(s, 'name', 'the node name'))
    const cluster = await ask(t(l, 'cli.setup.qCluster'), 'mccs', (s) => checkName(s, 'cluster', 'the cluster name'))
    const have = hostAddresses()
    const suggest = have.find((a) => a.family === 4 && a.ifname !== 'lo')?.address
    const links: LinkAnswer[] = []
    do {
      const i = links.length
      const lname = await ask(t(l, 'cli.setup.qLinkName', { n: i + 1 }), `link${i + 1}`, (s) => {
        checkName(s, 'link', 'a link name')
        if (links.some((l) => l.name === s)) throw new MccsError('MCCS_ERR_INVALID', `link ${s} is given already`, { field: 'link' })
        return s
      })
      const address = await ask(t(l, 'cli.setup.qLinkAddress', { link: lname }), i === 0 ? suggest : undefined, (s) => {
        checkOnHost(s, lname, have)
        if (links.some((l) => l.address === s))
          throw new MccsError('MCCS_ERR_INVALID', `${s} is link ${links.find((l) => l.address === s)!.name}'s already`, { field: lname })
        return s
      })
      links.push({ name: lname, address })
    } while (links.length < 8 && (await ask(t(l, 'cli.setup.qAnother'), 'n', yes)))
    checkLinks(links, have)
    const license = await ask(t(l, 'cli.setup.qLicense'), '', (s) => (s ? readLicense(s) : undefined))
    io.out(
      t(l, 'cli.setup.summary', {
        name,
        cluster,
        mode,
        language,
        links: links.map((k) => `${k.name}=${k.address}`).join(' '),
        license: t(l, license ? 'cli.setup.withLicense' : 'cli.setup.licenseLater'),
      }),
    )
    if (!(await ask(t(l, 'cli.setup.qWrite'), 'y', yes))) {
      io.err(t(l, 'cli.setup.nothingWritten'))
      return EXIT.FAILED
    }
    return await first(b, { language, mode, name, cluster, links, ...(license !== undefined ? { license } : {}) }, io, false)
  } finally {
    rl.close()
  }
}

export const NODE_ADD_USAGE = t('en', 'cli.nodeAdd.usage')

/** "10.0.0.2 on l0, 10.1.0.2 on l1" in the caller's language. */
function addressesText(l: Locale, addresses: Record<string, string>): string {
  return Object.entries(addresses)
    .map(([link, address]) => t(l, 'cli.setup.addressOn', { address, link }))
    .join(', ')
}

/** mccs node add <name>: on a member, the token for the new host, then waits for its join. */
export async function nodeAddCommand(args: string[], o: { timeoutS?: number; json: boolean; locale?: Locale }, io: CliIO): Promise<number> {
  const l = o.locale ?? 'en'
  const [name, ...extra] = args
  if (!name || extra.length) {
    io.err(t(l, 'cli.nodeAdd.usage'))
    return EXIT.USAGE
  }
  if (o.timeoutS !== undefined && !(Number.isFinite(o.timeoutS) && o.timeoutS > 0 && o.timeoutS <= 86400)) {
    io.err(t(l, 'cli.nodeAdd.timeout'))
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
        io.out(t(l, 'cli.nodeAdd.token', { node: x.node, seconds: o.timeoutS ?? 600 }))
        io.out(`  ${x.token}`)
        io.out(t(l, 'cli.nodeAdd.onNewHost'))
        io.out(`  mccs setup --join ${x.listen[0]}${x.port === b.heartbeatPort + 5 ? '' : `:${x.port}`} --token-file -`)
        io.out(t(l, 'cli.nodeAdd.paste'))
        io.out(t(l, 'cli.nodeAdd.waiting', { node: x.node, listen: x.listen.map((a) => `${a}:${x.port}`).join(', ') }))
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
    const addresses = addressesText(l, done.addresses)
    if (done.live) {
      io.out(t(l, 'cli.nodeAdd.joinedLive', { node: done.node, addresses, generation: done.generation }))
      io.out(t(l, 'cli.nodeAdd.nextLive', { node: done.node }))
      return EXIT.OK
    }
    io.out(t(l, 'cli.nodeAdd.joinedHere', { node: done.node, addresses, generation: done.generation, here: b.nodeName }))
    if (done.others.length) io.out(t(l, 'cli.nodeAdd.copyHb', { others: done.others.join(', '), file: `${b.configDir}/hb.json` }))
    io.out(
      t(l, 'cli.nodeAdd.next', {
        restart: running ? t(l, 'cli.nodeAdd.restartHere') : '',
        node: done.node,
        others: done.others.length ? t(l, 'cli.nodeAdd.othersRestart') : '',
      }),
    )
    return EXIT.OK
  } catch (err) {
    if (!isMccsError(err)) throw err
    io.err(t(l, 'cli.nodeAdd.refused', { message: err.message }))
    return exitFor(err)
  }
}
