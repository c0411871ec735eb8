// An agent named provider:name and its file. The name is checked before any path is made from it (no
// '/', no leading '.'), and the exec capability's `exec:ocf/*` checks the real path again.
export const AGENT_DIR = '/usr/lib/ocf/resource.d'
export const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9_.+-]*$/

export interface Agent {
  provider: string
  name: string
  id: string
  path: string
}

/** provider:name (an `ocf:` prefix allowed, as Pacemaker writes it) -> the agent's file, or why not. */
export function parseAgent(v: unknown): Agent | string {
  if (typeof v !== 'string' || !v) return 'must name an agent as provider:name, e.g. heartbeat:IPaddr2'
  const parts = v.split(':')
  if (parts.length === 3 && parts[0] === 'ocf') parts.shift()
  const [provider, name] = parts
  if (parts.length !== 2 || !SEGMENT.test(provider!) || !SEGMENT.test(name!) || provider!.length > 64 || name!.length > 128) {
    return `'${v}' is not provider:name (letters, digits, _ . + -; not starting with '.'), e.g. heartbeat:IPaddr2`
  }
  return { provider: provider!, name: name!, id: `${provider}:${name}`, path: `${AGENT_DIR}/${provider}/${name}` }
}
