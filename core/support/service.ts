// Support bundles for one node, some or all nodes: one tar.gz holding each node's own bundle
// (<node>.tar.gz) and a manifest.json naming the nodes that could not be collected and why.
// Other nodes' bundles come through `collectFromPeers`, wired by the cluster layer (peer channel);
// without it only this node is collected and the others are named as unreachable.
import { gunzipSync } from 'node:zlib'
import type { Bootstrap } from '../config/bootstrap.js'
import { MccsError } from '../errors.js'
import { collectNodeBundle } from './bundle.js'
import { SupportStore, type BundleInfo } from './store.js'
import { tarGz, untar, type TarEntry } from './tar.js'

export interface SupportDeps {
  bootstrap: Bootstrap
  /** This node's agent status (AgentStatus). */
  status: () => Promise<unknown>
  /** The cluster's node names (hb.json). */
  clusterNodes: () => string[]
  /** Another node's own bundle (what collectNodeBundle makes there), fetched over the peer channel. */
  collectFromPeers?: (node: string) => Promise<Buffer>
  mccsVersion?: string
  store?: SupportStore
}

export type NodeSelection = 'all' | string[]

/** Checks a request's node list against the cluster; the error names the offending entry. */
export function resolveNodes(sel: unknown, cluster: string[]): string[] {
  if (sel === 'all') return [...cluster]
  if (!Array.isArray(sel) || sel.length === 0)
    throw new MccsError('MCCS_ERR_INVALID', "must be 'all' or a non-empty list of node names", { field: '/nodes' })
  const out: string[] = []
  sel.forEach((n, i) => {
    if (typeof n !== 'string' || !cluster.includes(n))
      throw new MccsError('MCCS_ERR_INVALID', `${JSON.stringify(n)} is not a node of this cluster (${cluster.join(', ')})`, {
        field: `/nodes/${i}`,
      })
    if (!out.includes(n)) out.push(n)
  })
  return out
}

export function supportStore(deps: SupportDeps): SupportStore {
  return deps.store ?? new SupportStore(deps.bootstrap.stateDir)
}

export async function createSupportBundle(deps: SupportDeps, sel: NodeSelection, now = new Date()): Promise<BundleInfo> {
  const nodes = resolveNodes(sel, deps.clusterNodes())
  const self = deps.bootstrap.nodeName
  const entries: TarEntry[] = []
  const collected: string[] = []
  const unreachable: BundleInfo['unreachable'] = []
  await Promise.all(
    nodes.map(async (node) => {
      try {
        let data: Buffer
        if (node === self) {
          data = (
            await collectNodeBundle({
              bootstrap: deps.bootstrap,
              status: deps.status,
              now,
              ...(deps.mccsVersion ? { mccsVersion: deps.mccsVersion } : {}),
            })
          ).data
        } else if (deps.collectFromPeers) {
          data = await deps.collectFromPeers(node)
          checkNodeBundle(data, node)
        } else {
          throw new Error('collecting from other nodes is not wired in this agent (no peer channel for support files)')
        }
        entries.push({ name: `${node}.tar.gz`, data, mtime: now })
        collected.push(node)
      } catch (e) {
        unreachable.push({ node, reason: (e as Error).message })
      }
    }),
  )
  const order = (a: string, b: string) => nodes.indexOf(a) - nodes.indexOf(b)
  collected.sort(order)
  unreachable.sort((a, b) => order(a.node, b.node))
  entries.sort((a, b) => order(a.name.replace(/\.tar\.gz$/, ''), b.name.replace(/\.tar\.gz$/, '')))
  const id = SupportStore.newId(now)
  const manifest = { id, createdAt: now.toISOString(), collectedOn: self, requested: nodes, nodes: collected, unreachable }
  entries.push({ name: 'manifest.json', data: Buffer.from(JSON.stringify(manifest, null, 2) + '\n'), mtime: now })
  return supportStore(deps).add({ id, createdAt: manifest.createdAt, nodes: collected, unreachable }, tarGz(entries))
}

/** A peer's answer must be that node's bundle: gzip'd ustar whose entries all sit under <node>/. */
function checkNodeBundle(data: Buffer, node: string): void {
  let files: TarEntry[]
  try {
    files = untar(gunzipSync(data))
  } catch (e) {
    throw new Error(`${node} sent something that is not a tar.gz: ${(e as Error).message}`)
  }
  if (!files.some((f) => f.name === `${node}/manifest.json`) || files.some((f) => !f.name.startsWith(`${node}/`))) {
    throw new Error(`${node} sent a bundle that is not its own (entries must sit under ${node}/ with a manifest.json)`)
  }
}
