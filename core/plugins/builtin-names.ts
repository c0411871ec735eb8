// The resource and fence types shipped with MCCS (plugins/<name>/). Their names are reserved: the
// configuration, the console and operators mean these plugins by them, and a third-party plugin taking
// one would receive every resource of that type, attributes and all. Only the plugin in the built-in
// folder's <name>/ sub-folder may load under such a name (core/plugins/host.ts).
export const BUILTIN_TYPES: ReadonlySet<string> = new Set([
  'address',
  'aws-eip',
  'aws-oip',
  'aws-sip',
  'dummy',
  'fence-aws',
  'fence-script',
  'mirror-disk',
  'nic',
  'ocf',
  'process',
  'script',
])
