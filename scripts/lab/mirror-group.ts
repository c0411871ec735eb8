// A mirror-disk resource for the lab's agent clusters (issue 15): two backing files in a temp folder (a
// file system made on the first node's, the operator's first step on a new volume), the resource's
// configuration for a two-node group, the operator's first forced promotion and the wait for the peer's
// copy to be up to date, and the release of the loop devices the agents left.
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { rpc } from '../../core/cli/control-client.js'
import type { MirrorSides } from '../../core/mirror/control.js'
import type { Lab } from './lab.js'
import { type AgentCluster, until } from './agent-cluster.js'

export interface LabMirror {
  dir: string
  mountPoint: string
  /** The mirror-disk resource `name` of `group` on the two nodes, replicating over link 0. */
  resource(lab: Lab, nodes: string[], name: string, group: string): Record<string, unknown>
  /** Kills nothing: detaches the loop devices that appeared since create() over a gone FUSE file (the
   *  agents attach over a FUSE file in their own mount namespace; the host's losetup shows it as
   *  '/disk' once that namespace is gone), then removes the folder. Call after the agents are gone. */
  release(): void
}

/** The host's loop devices and their backing files, from sysfs: `losetup -a` asks each backing file's
 *  file system, and one over a deadlocked FUSE daemon (see killNode) hangs it for good. `id`: the device
 *  and its diskseq, which the kernel bumps at every attach and detach — one attachment, not a name. */
const loops = (): Array<{ dev: string; backing: string; id: string }> => {
  const out: Array<{ dev: string; backing: string; id: string }> = []
  for (const b of fs.readdirSync('/sys/block').filter((x) => /^loop\d+$/.test(x))) {
    try {
      const backing = fs.readFileSync(`/sys/block/${b}/loop/backing_file`, 'utf8').trim()
      out.push({ dev: `/dev/${b}`, backing, id: `${b} ${fs.readFileSync(`/sys/block/${b}/diskseq`, 'utf8').trim()}` })
    } catch {
      /* not bound */
    }
  }
  return out
}

export function createLabMirror(nodes: string[], size = 64 * 1024 * 1024): LabMirror {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mccs-lmd-'))
  // By attachment, not by name: with two test files at a time (.taprc jobs), a device bound by the other
  // file at this moment may be released and then bound by this test's agents; compared by name, it was
  // skipped here and left bound over "/disk" (the loop device left in full test runs, issue 15).
  const before = new Set(loops().map((l) => l.id))
  const mountPoint = path.join(dir, 'mnt')
  for (const n of nodes) {
    fs.writeFileSync(path.join(dir, `${n}.img`), '')
    fs.truncateSync(path.join(dir, `${n}.img`), size)
  }
  execFileSync('mkfs.ext4', ['-q', '-F', path.join(dir, `${nodes[0]}.img`)])
  return {
    dir,
    mountPoint,
    resource: (lab, ns, name, group) => ({
      name,
      type: 'mirror-disk',
      group,
      critical: true,
      monitored: true,
      // The standby's copy is exported by the offline monitor: every 2 s, not the default minute.
      policy: { monitorIntervalS: 2, offlineMonitorIntervalS: 2 },
      attrs: { port: 7789, mode: 'sync', mountPoint, fs: 'ext4' },
      nodeAttrs: Object.fromEntries(
        ns.map((n, i) => [
          n,
          { backing: path.join(dir, `${n}.img`), replicationAddress: lab.addr(n, 0), peerAddress: lab.addr(ns[1 - i]!, 0) },
        ]),
      ),
    }),
    release: () => {
      for (const l of loops()) {
        if (!before.has(l.id) && (l.backing === '/disk' || l.backing.startsWith(dir)))
          try {
            execFileSync('losetup', ['-d', l.dev], { timeout: 5000 })
          } catch {
            /* gone, or stuck (reported by the caller's next run) */
          }
      }
      fs.rmSync(dir, { recursive: true, force: true })
    },
  }
}

export const mirrorStatus = (c: AgentCluster, node: string, resource: string): Promise<MirrorSides[]> =>
  rpc<MirrorSides[]>(path.join(c.homes[node]!, 'state/mccs.sock'), 'mirror', { op: 'status', resource }, 10_000)

/** The operator's first start of a new volume: both secondaries running, a forced promotion allowed on
 *  `node`, the group brought online there, and the other copy up to date. */
export async function firstPrimary(c: AgentCluster, o: { resource: string; group: string; node: string }): Promise<void> {
  const sock = path.join(c.homes[o.node]!, 'state/mccs.sock')
  await until(
    async () => {
      const [s] = await mirrorStatus(c, o.node, o.resource)
      return (s && s.local.role === 'secondary' && 'role' in s.peer && s.peer.role === 'secondary') || undefined
    },
    30_000,
    'both secondaries running',
  )
  await rpc(sock, 'mirror', { op: 'primary', resource: o.resource, force: true, user: 'lab' }, 10_000)
  // The group may still be busy with its first probes and monitors: asked again until accepted.
  let last: unknown = null
  await until(
    async () => {
      const r = await rpc<{ outcome: { status: string; code?: string }; reached?: boolean }>(
        sock,
        'command',
        { cmd: { type: 'groupOnline', group: o.group, node: o.node, user: 'lab' }, wait: true, timeoutMs: 60_000 },
        70_000,
      )
      last = r.outcome
      return r.reached === true || undefined
    },
    60_000,
    `${o.group} online on ${o.node}`,
  ).catch(async (e: unknown) => {
    // Why it faulted is in the agent's log: the lines about the resource, so a failed run can be read.
    const lines = (await c.log(o.node).catch(() => ''))
      .split('\n')
      .filter((l) => l.includes(o.resource) && /"level":(40|50)/.test(l))
      .slice(-12)
    throw new Error(
      `${(e as Error).message} (last answer: ${JSON.stringify(last)})\n${o.node}'s warnings about ${o.resource}:\n${lines.join('\n')}`,
    )
  })
  await until(
    async () => {
      const [s] = await mirrorStatus(c, o.node, o.resource)
      return (
        (s?.local.role === 'primary' &&
          s.local.replication?.state === 'Connected' &&
          'role' in s.peer &&
          s.peer.peerRecord?.state === 'UpToDate') ||
        undefined
      )
    },
    60_000,
    `the other copy of ${o.resource} up to date`,
  )
}
