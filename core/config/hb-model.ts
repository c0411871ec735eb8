// The model of hb.json: the cluster's nodes, links, heartbeat timing, quorum and fence devices. Read by
// the cluster layer (heartbeat, role), the agent (fencing, peers) and the config store; never by the
// engine, which learns of membership only through events.

export interface HbLink {
  name: string
  priority: number
  port?: number
}
export interface HbNode {
  name: string
  /** Address of this node on each link, by link name. */
  addresses: Record<string, string>
  votes?: number
  /** Addresses a node must reach to know it is not the isolated one. */
  isolationTestAddresses?: string[]
  /** Fence devices that can fence this node, tried in order (level 1, then 2, ...). */
  /** Fence devices, level by level. `effectMs`: how long after the call the node runs nothing (default: the
   *  type's manifest fenceEffectMs); the two-node fence delay covers it. */
  fencing?: Array<{ type: string; attrs?: Record<string, unknown>; effectMs?: number }>
}
export interface HbConfig {
  generation: number
  cluster: string
  nodes: HbNode[]
  links: HbLink[]
  timing: { intervalMs: number; deadMs: number }
  port: number
  quorum?: HbQuorum
}

export interface HbQuorum {
  /** Two-node mode without a quorum server: after every node was seen once, a tie is quorate. */
  twoNode?: boolean
  server?: { host: string; port?: number; servername?: string; caFile: string; keyFile: string }
  /** A node running no resource waits this long before it fences a peer (the active node wins the race). */
  fenceDelayMs?: number
}
