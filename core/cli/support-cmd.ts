// mccs support [--out file]: this node's support bundle (manual 4.2.5.1), kept in <stateDir>/support
// like the console's, and copied to --out (default: ./mccs-support-<node>-<id>.tar.gz).
// The agent's status is asked over the control socket; a stopped agent is noted in the bundle.
import { copyFile } from 'node:fs/promises'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { loadBootstrap, type Bootstrap } from '../config/bootstrap.js'
import { rpc } from './control-client.js'
import { createSupportBundle } from '../support/service.js'
import { SupportStore } from '../support/store.js'
import { ConfigStore } from '../config/store.js'
import { EXIT } from './exit-codes.js'
import type { CliIO } from './io.js'
import { t } from '../i18n/messages.js'
import { cliLocale } from './lang.js'

/** The usage text in English; the command prints it in the caller's language. */
export const SUPPORT_USAGE = t('en', 'cli.support.usage')

export async function supportCommand(argv: string[], io: CliIO, bootstrap?: Bootstrap): Promise<number> {
  let o: { out?: string; json?: boolean; lang?: string }
  let args: string[]
  try {
    const p = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: { out: { type: 'string' }, json: { type: 'boolean' }, lang: { type: 'string' } },
    })
    o = p.values
    args = p.positionals
  } catch (e) {
    const l = await cliLocale(undefined, async () => (bootstrap ?? (await loadBootstrap())).configDir).catch(() => 'en' as const)
    io.err(`mccs support: ${(e as Error).message}\n${t(l, 'cli.support.usage')}`)
    return EXIT.USAGE
  }
  const b = bootstrap ?? (await loadBootstrap())
  const l = await cliLocale(o.lang, async () => b.configDir)
  if (args[0] === 'list') {
    const list = await new SupportStore(b.stateDir).list()
    io.out(
      o.json
        ? JSON.stringify(list, null, 2)
        : list.map((x) => t(l, 'cli.support.row', { id: x.id, at: x.createdAt, nodes: x.nodes.join(','), size: x.size })).join('\n') ||
            t(l, 'cli.support.none'),
    )
    return EXIT.OK
  }
  if (args.length) {
    io.err(t(l, 'cli.support.usage'))
    return EXIT.USAGE
  }
  // The node list only names this node: other nodes' files come through the agent's peer channel (console).
  const nodes = await new ConfigStore(b.configDir, { migrateOnLoad: false }).load().then(
    (c) => c.hb.nodes.map((n) => n.name),
    () => [b.nodeName],
  )
  const info = await createSupportBundle(
    {
      bootstrap: b,
      status: () => rpc(b.controlSocket, 'status', {}, 10_000),
      clusterNodes: () => (nodes.includes(b.nodeName) ? nodes : [...nodes, b.nodeName]),
    },
    [b.nodeName],
  )
  const src = path.join(new SupportStore(b.stateDir).dir, `${info.id}.tar.gz`)
  const out = path.resolve(o.out ?? `mccs-support-${b.nodeName}-${info.id}.tar.gz`)
  await copyFile(src, out)
  io.out(
    o.json
      ? JSON.stringify({ ...info, file: out }, null, 2)
      : t(l, 'cli.support.written', { id: info.id, size: info.size, nodes: info.nodes.join(', '), file: out }),
  )
  for (const u of info.unreachable) io.err(t(l, 'cli.support.notCollected', { node: u.node, reason: u.reason }))
  return info.nodes.length ? EXIT.OK : EXIT.FAILED
}
