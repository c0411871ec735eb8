// A quorum server for a lab cluster: its state (cluster key, CA, certificate for the client namespace's
// address) in a temp folder, the files every node needs, and the server itself run in the client namespace.
import type { ChildProcess } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { addressOf } from './lab.js'
import type { AgentCluster, AgentClusterOptions } from './agent-cluster.js'
import { addCluster } from '../../core/cluster/quorum-server.js'
import { ensureTlsMaterial } from '../../core/cluster/tls.js'
import { packageRoot } from '../../core/paths.js'

export const QS_PORT = 14322

export interface LabQuorumServer {
  /** AgentCluster options that point every node at the server. */
  options: Pick<AgentClusterOptions, 'hb' | 'files'>
  /** Where the server listens, and its files as a node's config folder holds them (`sub`/ca.crt, `sub`/<cluster>.key). */
  host: string
  port: number
  files: { caFile: string; keyFile: string; ca: string; key: string }
  /** Starts the server in the cluster's client namespace (lease 1 s, reports every 200 ms). */
  start(c: AgentCluster): ChildProcess
  cleanup(): Promise<void>
}

/** A quorum server; a second one for the same cluster takes another `port` and `sub` folder (its own CA and key). */
export async function labQuorumServer(cluster = 'lab', o: { port?: number; sub?: string } = {}): Promise<LabQuorumServer> {
  const port = o.port ?? QS_PORT
  const sub = o.sub ?? 'quorum'
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mccs-qs-'))
  const host = addressOf('client', 0)
  const key = await addCluster(dir, cluster)
  const tls = await ensureTlsMaterial(path.join(dir, 'tls'), { label: 'quorum server', hosts: [host] })
  const ca = await readFile(tls.caCertFile, 'utf8')
  const files = { caFile: `${sub}/ca.crt`, keyFile: `${sub}/${cluster}.key`, ca, key }
  return {
    host,
    port,
    files,
    options: {
      hb: (hb) => {
        hb.quorum = { server: { host, port, caFile: files.caFile, keyFile: files.keyFile } }
      },
      files: () => ({ [`config/${files.caFile}`]: ca, [`config/${files.keyFile}`]: key }),
    },
    start(c) {
      const env = { ...process.env }
      delete env.NODE_OPTIONS
      return c.lab.spawn(
        'client',
        [
          process.execPath,
          '--no-node-snapshot',
          path.join(packageRoot(), 'dist/mccs.js'),
          'quorum-server',
          'run',
          '--dir',
          dir,
          '--listen',
          host,
          '--port',
          String(port),
          '--interval-ms',
          '200',
          '--timeout-ms',
          '1000',
        ],
        { env, stdio: 'ignore' },
      )
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  }
}
