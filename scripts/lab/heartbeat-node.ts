// One heartbeat process for the lab (tests and benches): runs core/cluster/heartbeat.ts for one node and
// reports on stdout as JSON lines; takes commands as JSON lines on stdin.
//   node --import tsx scripts/lab/heartbeat-node.ts --hb hb.json --key cluster.key --self n1 [--tap]
// Out: {"ev":"ready",...} {"ev":"peer",...} {"ev":"link",...} {"ev":"view",...} {"ev":"reject",...} and replies.
// In:  {"id":1,"cmd":"status"} | {"id":2,"cmd":"membership","qs":"none"} | {"id":3,"cmd":"captured","from":"n2","link":"l0"}
//      | {"id":4,"cmd":"payload","payload":{...}}
// The piggybacked view is kept up to date: `up` = the peers seen up, plus the last membership result.
import { readFile } from 'node:fs/promises'
import { createInterface } from 'node:readline'
import { Heartbeat } from '../../core/cluster/heartbeat.js'
import { loadClusterKey } from '../../core/cluster/cluster-key.js'
import { computeMembership, type QuorumServerVote } from '../../core/cluster/membership.js'
import type { HbView } from '../../core/cluster/packet.js'
import type { HbConfig } from '../../core/config/hb-model.js'

const arg = (n: string) => {
  const i = process.argv.indexOf(`--${n}`)
  return i >= 0 ? process.argv[i + 1] : undefined
}
const out = (o: Record<string, unknown>) => process.stdout.write(JSON.stringify(o) + '\n')

const hbFile = arg('hb')
const keyFile = arg('key')
const self = arg('self')
if (!hbFile || !keyFile || !self) {
  console.error('usage: heartbeat-node.ts --hb hb.json --key cluster.key --self <node> [--tap]')
  process.exit(2)
}
const config = JSON.parse(await readFile(hbFile, 'utf8')) as HbConfig
const key = await loadClusterKey(keyFile)
const tap = process.argv.includes('--tap')
/** Last datagram received per `${from}/${link}` (with --tap), to replay it. */
const captured = new Map<string, Buffer>()
const byAddress = new Map<string, string>()
for (const n of config.nodes) for (const a of Object.values(n.addresses)) byAddress.set(a, n.name)

const hb = new Heartbeat({
  config,
  self,
  key,
  ...(tap
    ? {
        onPacket: (raw: Buffer, link: string, from: { address: string }) => {
          const n = byAddress.get(from.address)
          if (n) captured.set(`${n}/${link}`, Buffer.from(raw))
        },
      }
    : {}),
})
let extra: HbView = {}
const refresh = () => hb.setPayload({ ...extra, up: hb.upPeers().sort() })
hb.on('peer', (e) => {
  refresh()
  out({ ev: 'peer', ...e })
})
hb.on('link', (e) => out({ ev: 'link', ...e }))
hb.on('view', (e) => out({ ev: 'view', ...e }))
hb.on('reject', (e) => out({ ev: 'reject', ...e }))
await hb.start()
out({ ev: 'ready', node: self, pid: process.pid, incarnation: hb.incarnation.toString(), at: Date.now() })

const rl = createInterface({ input: process.stdin })
rl.on('line', (line) => {
  let m: { id?: number; cmd?: string; qs?: QuorumServerVote; from?: string; link?: string; payload?: HbView }
  try {
    m = JSON.parse(line)
  } catch {
    return out({ ev: 'error', error: 'bad command line' })
  }
  try {
    switch (m.cmd) {
      case 'status':
        return out({ ev: 'reply', id: m.id, status: hb.status() })
      case 'membership': {
        const r = computeMembership({ self, nodes: config.nodes, up: hb.upPeers(), views: hb.views(), quorumServerVote: m.qs ?? 'none' })
        return out({ ev: 'reply', id: m.id, membership: r })
      }
      case 'captured': {
        const b = captured.get(`${m.from}/${m.link}`)
        return out({ ev: 'reply', id: m.id, packet: b ? b.toString('base64') : null })
      }
      case 'payload':
        extra = m.payload ?? {}
        refresh()
        return out({ ev: 'reply', id: m.id, ok: true })
      default:
        return out({ ev: 'reply', id: m.id, error: `unknown command ${m.cmd}` })
    }
  } catch (e) {
    out({ ev: 'reply', id: m.id, error: e instanceof Error ? e.message : String(e) })
  }
})
const stop = () => {
  void hb.stop().then(() => process.exit(0))
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
rl.on('close', stop)
