// mccs cluster key create [--force]: the 256-bit cluster key (config/cluster.key, mode 0600) that
// authenticates heartbeats and agent-to-agent messages. Copy the same file to every node.
import { clusterKeyPath, createClusterKey, loadClusterKey } from '../cluster/cluster-key.js'
import type { Bootstrap } from '../config/bootstrap.js'
import { EXIT } from './exit-codes.js'
import type { CliIO } from './io.js'
import { t, type Locale } from '../i18n/messages.js'

export async function clusterCommand(args: string[], b: Bootstrap, o: { force: boolean; locale?: Locale }, io: CliIO): Promise<number> {
  const l = o.locale ?? 'en'
  const [what, verb] = args
  const file = clusterKeyPath(b.configDir)
  if (what === 'key' && verb === 'create') {
    await createClusterKey(file, { overwrite: o.force })
    io.out(t(l, 'cli.cluster.created', { file, dir: b.configDir }))
    return EXIT.OK
  }
  if (what === 'key' && verb === 'check') {
    await loadClusterKey(file)
    io.out(t(l, 'cli.cluster.valid', { file }))
    return EXIT.OK
  }
  io.err(t(l, 'cli.cluster.usage'))
  return EXIT.USAGE
}
