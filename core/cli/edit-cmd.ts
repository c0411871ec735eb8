// mccs group add|delete|edit, mccs resource add|delete|edit|link|unlink: the operator's configuration
// commands, sent to the local agent (`config.edit`), which checks them against the configuration and
// the engine's state, commits them (validated, generation checked) and logs them.
import { currentUser } from './user.js'
import type { ConfigEditReply } from '../agent/config-edit.js'
import type { ConfigOpName } from '../agent/config-ops.js'
import { rpc } from './control-client.js'
import { EXIT, exitOf } from './exit-codes.js'
import type { CliIO } from './io.js'
import { t } from '../i18n/messages.js'
import { cliLocale } from './lang.js'

export const EDIT_VERBS = {
  group: { add: 'groupAdd', delete: 'groupDelete', edit: 'groupEdit' },
  resource: { add: 'resourceAdd', delete: 'resourceDelete', edit: 'resourceEdit', link: 'resourceLink', unlink: 'resourceUnlink' },
} as const satisfies Record<'group' | 'resource', Record<string, ConfigOpName>>

export function isEditVerb(kind: string, verb: string | undefined): boolean {
  return (kind === 'group' || kind === 'resource') && verb !== undefined && Object.hasOwn(EDIT_VERBS[kind], verb)
}

export const EDIT_USAGE = `configuration commands:
  mccs group add <g> --nodes n1,n2 [--no-failover] [--no-autostart] [--failback]
  mccs group edit <g> [--nodes n1,n2] [--[no-]failover] [--[no-]autostart] [--[no-]failback]
  mccs group delete <g> [--force]            --force deletes the group's resources too
  mccs resource add <r> --type T --group G [--attr k=v]... [--node-attr node:k=v]... [--non-critical] [--unmonitored] [--policy k=v]...
  mccs resource edit <r> [--type T] [--group G] [--attr k=v]... [--node-attr node:k=v]... [--unset k|node:k]... [--policy k=v]... [--unset-policy k]...
                         [--critical|--non-critical] [--monitored|--unmonitored]
  mccs resource delete <r> [--force]         --force removes the links of resources that depend on it
  mccs resource link <parent> <child>        parent depends on child (child online first)
  mccs resource unlink <parent> <child>
  values are JSON when they parse as JSON (--attr 'argv=["/bin/sleep","100"]', --attr port=80), else strings
  --expect-generation N refuses the change unless generation N is in force; --json prints the agent's reply`

export type Flags = Record<string, string | boolean | (string | boolean)[] | undefined>

export interface EditRequest {
  op: ConfigOpName
  args: Record<string, unknown>
  expectGeneration?: number
}

/** A value given on the command line: JSON when it parses as JSON, else the string itself. */
export function parseValue(s: string): unknown {
  try {
    return JSON.parse(s) as unknown
  } catch {
    return s
  }
}

class UsageError extends Error {}

export function buildEdit(kind: 'group' | 'resource', positionals: string[], f: Flags): EditRequest | string {
  try {
    return build(kind, positionals, f)
  } catch (e) {
    if (e instanceof UsageError) return e.message
    throw e
  }
}

function build(kind: 'group' | 'resource', positionals: string[], f: Flags): EditRequest {
  const [verb, name, second] = positionals
  const op = (EDIT_VERBS[kind] as Record<string, ConfigOpName>)[verb ?? '']
  if (!op) throw new UsageError(`unknown verb ${verb ?? ''}`)
  if (!name)
    throw new UsageError(
      `mccs ${kind} ${verb}: the ${kind === 'resource' && (verb === 'link' || verb === 'unlink') ? 'parent' : kind} name is missing`,
    )
  const out: EditRequest = { op, args: {} }
  const eg = str(f, 'expect-generation')
  if (eg !== undefined) {
    if (!/^\d+$/.test(eg)) throw new UsageError('--expect-generation must be a generation number')
    out.expectGeneration = Number(eg)
  }
  const a = out.args
  switch (op) {
    case 'groupAdd':
    case 'groupEdit': {
      a['group'] = name
      const nodes = str(f, 'nodes')
      if (nodes !== undefined)
        a['nodes'] = nodes
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean)
      else if (op === 'groupAdd') throw new UsageError('mccs group add: --nodes n1,n2 is required (the failover order)')
      setFlag(a, 'failoverOnFailure', f, 'failover', 'no-failover')
      setFlag(a, 'autoStart', f, 'autostart', 'no-autostart')
      setFlag(a, 'autoFailback', f, 'failback', 'no-failback')
      break
    }
    case 'groupDelete':
    case 'resourceDelete':
      a[kind] = name
      if (f['force'] === true) a['force'] = true
      break
    case 'resourceLink':
    case 'resourceUnlink':
      if (!second) throw new UsageError(`mccs resource ${verb} <parent> <child>: the child name is missing`)
      a['parent'] = name
      a['child'] = second
      break
    case 'resourceAdd':
    case 'resourceEdit': {
      a['resource'] = name
      const type = str(f, 'type')
      const group = str(f, 'group')
      if (op === 'resourceAdd' && (type === undefined || group === undefined))
        throw new UsageError('mccs resource add: --type T and --group G are required')
      if (type !== undefined) a['type'] = type
      if (group !== undefined) a['group'] = group
      setFlag(a, 'critical', f, 'critical', 'non-critical')
      setFlag(a, 'monitored', f, 'monitored', 'unmonitored')
      const attrs: Record<string, unknown> = {}
      for (const kv of list(f, 'attr')) {
        const [k, v] = pair(kv, '--attr')
        attrs[k] = v
      }
      if (Object.keys(attrs).length) a['attrs'] = attrs
      const nodeAttrs: Record<string, Record<string, unknown>> = {}
      for (const nkv of list(f, 'node-attr')) {
        const i = nkv.indexOf(':')
        if (i <= 0) throw new UsageError(`--node-attr ${nkv}: expected node:key=value`)
        const [k, v] = pair(nkv.slice(i + 1), '--node-attr')
        ;(nodeAttrs[nkv.slice(0, i)] ??= {})[k] = v
      }
      if (Object.keys(nodeAttrs).length) a['nodeAttrs'] = nodeAttrs
      const policy: Record<string, unknown> = {}
      for (const kv of list(f, 'policy')) {
        const [k, v] = pair(kv, '--policy')
        policy[k] = v
      }
      if (Object.keys(policy).length) a['policy'] = policy
      if (op === 'resourceEdit') {
        const unset = list(f, 'unset')
        if (unset.length) a['unsetAttrs'] = unset
        const unsetPolicy = list(f, 'unset-policy')
        if (unsetPolicy.length) a['unsetPolicy'] = unsetPolicy
      } else if (list(f, 'unset').length || list(f, 'unset-policy').length) {
        throw new UsageError('--unset and --unset-policy are for mccs resource edit')
      }
      break
    }
  }
  return out
}

function str(f: Flags, k: string): string | undefined {
  const v = f[k]
  if (v === undefined) return undefined
  if (typeof v !== 'string') throw new UsageError(`--${k} needs a value`)
  return v
}

function list(f: Flags, k: string): string[] {
  const v = f[k]
  if (v === undefined) return []
  const xs = Array.isArray(v) ? v : [v]
  return xs.map((x) => {
    if (typeof x !== 'string') throw new UsageError(`--${k} needs a value`)
    return x
  })
}

function pair(kv: string, flag: string): [string, unknown] {
  const i = kv.indexOf('=')
  if (i <= 0) throw new UsageError(`${flag} ${kv}: expected key=value`)
  return [kv.slice(0, i), parseValue(kv.slice(i + 1))]
}

function setFlag(a: Record<string, unknown>, field: string, f: Flags, yes: string, no: string): void {
  const y = f[yes] === true
  const n = f[no] === true
  if (y && n) throw new UsageError(`--${yes} and --${no} contradict each other`)
  if (y) a[field] = true
  if (n) a[field] = false
}

/** Exit 3 when the change was refused in the current state (the catalogue's `exit`), 6 when the configuration it makes is invalid. */
export function exitCodeOf(code: string): number {
  return exitOf(code, EXIT.INVALID)
}

export async function editCommand(
  kind: 'group' | 'resource',
  positionals: string[],
  f: Flags,
  o: { socket: string; json: boolean },
  io: CliIO,
): Promise<number> {
  const req = buildEdit(kind, positionals, f)
  if (typeof req === 'string') {
    io.err(`${req}\n\n${EDIT_USAGE}`)
    return EXIT.USAGE
  }
  // The language first: a --lang refused after the agent made the edit would report a done edit as failed.
  const l = await cliLocale(f.lang, async () => (await (await import('../config/bootstrap.js')).loadBootstrap()).configDir)
  const reply = await rpc<ConfigEditReply>(o.socket, 'config.edit', {
    op: req.op,
    args: req.args,
    user: currentUser(),
    ...(req.expectGeneration !== undefined ? { expectGeneration: req.expectGeneration } : {}),
  })
  if (o.json) io.out(JSON.stringify(reply, null, 2))
  if (reply.ok) {
    if (!o.json) {
      io.out(t(l, 'cli.edit.done', { summary: reply.summary, generation: reply.generation }))
      for (const w of reply.warnings ?? []) io.err(t(l, 'cli.edit.warning', { resource: w.resource, reason: w.reason }))
    }
    return EXIT.OK
  }
  if (!o.json) {
    io.err(
      reply.issues
        ? `mccs ${kind} ${positionals[0]}: refused, the configuration it makes is invalid (generation ${reply.generation} stays in force):\n${reply.text}`
        : `mccs ${kind} ${positionals[0]}: refused: ${reply.text}`,
    )
  }
  return exitCodeOf(reply.code)
}
