// The capability providers an agent offers its plugins. One line per capability: the network (`net`)
// and AWS (`aws.ec2`) providers are added here, nothing else in the agent changes.
import type { CapabilityProvider } from '../capabilities.js'
import type { Bootstrap } from '../../config/bootstrap.js'
import { execProvider } from './exec.js'
import { stateProvider, type StateStore } from './state.js'
import { procProvider } from './proc-provider.js'
import type { ProcManager } from './proc.js'
import { netProvider } from './net.js'
import { awsEc2Provider } from './aws-ec2.js'
import { mirrorProvider } from './mirror.js'
import type { MirrorManager } from '../../mirror/manager.js'

export interface ProviderDeps {
  bootstrap: Bootstrap
  procs: ProcManager
  pluginState: StateStore
  /** The mirror-disk data plane (issue 15); the capability is offered only when the agent made one. */
  mirror?: MirrorManager
}

export function agentProviders(d: ProviderDeps): CapabilityProvider[] {
  return [
    execProvider,
    procProvider(d.procs),
    stateProvider(d.pluginState),
    netProvider,
    awsEc2Provider({ settingsFile: `${d.bootstrap.configDir}/aws.json` }),
    ...(d.mirror ? [mirrorProvider(d.mirror)] : []),
  ]
}
