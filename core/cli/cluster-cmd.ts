// mccs cluster key create [--force]: the 256-bit cluster key (config/cluster.key, mode 0600) that
// authenticates heartbeats and agent-to-agent messages. Copy the same file to every node.
import { clusterKeyPath, createClusterKey, loadClusterKey } from '../cluster/cluster-key.js'
import type { Bootstrap } from '../config/bootstrap.js'
import { EXIT } from './exit-codes.js'
import type { CliIO } from './io.js'

export async function clusterCommand(args: string[], b: Bootstrap, o: { force: boolean }, io: CliIO): Promise<number> {
  const [what, verb] = args
  const file = clusterKeyPath(b.configDir)
  if (what === 'key' && verb === 'create') {
    await createClusterKey(file, { overwrite: o.force })
    io.out(`created ${file} (256 bits, mode 0600): copy it to ${b.configDir}/ on every node of the cluster`)
    return EXIT.OK
  }
  if (what === 'key' && verb === 'check') {
    await loadClusterKey(file)
    io.out(`${file}: a valid 256-bit key, mode 0600`)
    return EXIT.OK
  }
  io.err('usage: mccs cluster key create [--force] | mccs cluster key check')
  return EXIT.USAGE
}
