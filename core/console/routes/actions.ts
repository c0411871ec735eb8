// Operator commands: POST /api/groups/:group/actions/:verb, /api/resources/:resource/actions/:verb,
// /api/monitor-all. The command is built by the same function as `mccs group|resource <verb>`
// (core/agent/operator-commands.ts) and goes through agent.command(), which logs it in the operation log.
import type { FastifyInstance } from 'fastify'
import type { CommandReply } from '../../agent/agent.js'
import { buildCommand, GROUP_VERBS, RESOURCE_VERBS } from '../../agent/operator-commands.js'
import type { OperatorCommand } from '../../engine/index.js'
import { MccsError } from '../../errors.js'
import type { RouteDeps } from './deps.js'
import { userOf } from './deps.js'

const name = { type: 'string', pattern: '^[A-Za-z][A-Za-z0-9_.-]{0,63}$' } as const
const wait = { type: 'boolean', description: 'answer once the target state is reached (or cannot be)' } as const
const timeoutS = { type: 'integer', minimum: 1, maximum: 3600, description: 'with wait: give up after this long (default 600)' } as const

interface ActionBody {
  node?: string
  persistent?: boolean
  off?: boolean
  wait?: boolean
  timeoutS?: number
}

export function registerActionRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const run = async (cmd: OperatorCommand | string, body: ActionBody, user: string) => {
    if (typeof cmd === 'string') throw new MccsError('MCCS_ERR_INVALID', cmd, { field: '/params/verb' })
    const timeoutS = body.timeoutS ?? 600
    const reply = await deps.agent.command({ ...cmd, user } as OperatorCommand, { wait: body.wait === true, timeoutMs: timeoutS * 1000 })
    // The command is logged when it is accepted (Agent.command) and how it ended (command-results.ts), waited for or not.
    return view(reply)
  }

  app.post<{ Params: { group: string; verb: string }; Body: ActionBody }>(
    '/api/groups/:group/actions/:verb',
    {
      schema: {
        summary: 'A group command (as `mccs group <verb> <group>`)',
        params: {
          type: 'object',
          required: ['group', 'verb'],
          properties: { group: name, verb: { type: 'string', enum: Object.keys(GROUP_VERBS) } },
        },
        body: {
          type: 'object',
          additionalProperties: false,
          properties: {
            node: { ...name, description: 'online/clear: the node; switch: the target node' },
            persistent: { type: 'boolean', description: 'lock: survives agent restarts' },
            off: { type: 'boolean', description: 'failover: turn failover on failure off' },
            wait,
            timeoutS,
          },
        },
      },
    },
    async (req) => {
      const b = req.body
      const user = userOf(req)
      const cmd = buildCommand(
        'group',
        req.params.verb,
        req.params.group,
        { ...opt('node', b.node), ...opt('persistent', b.persistent), ...opt('off', b.off) },
        user,
      )
      return run(cmd, b, user)
    },
  )

  app.post<{ Params: { resource: string; verb: string }; Body: ActionBody }>(
    '/api/resources/:resource/actions/:verb',
    {
      schema: {
        summary: 'A resource command (as `mccs resource <verb> <resource>`)',
        params: {
          type: 'object',
          required: ['resource', 'verb'],
          properties: { resource: name, verb: { type: 'string', enum: Object.keys(RESOURCE_VERBS) } },
        },
        body: { type: 'object', additionalProperties: false, properties: { node: name, wait, timeoutS } },
      },
    },
    async (req) => {
      const b = req.body
      const user = userOf(req)
      const cmd = buildCommand('resource', req.params.verb, req.params.resource, opt('node', b.node), user)
      return run(cmd, b, user)
    },
  )

  app.post<{ Body: ActionBody }>(
    '/api/monitor-all',
    {
      schema: {
        summary: 'Monitor every resource now (as `mccs monitor-all`)',
        body: { type: 'object', additionalProperties: false, properties: {} },
      },
    },
    async (req) => run(buildCommand('monitor-all', undefined, undefined, {}, userOf(req)), {}, userOf(req)),
  )

  // Node actions (as `mccs node <verb> <node>`, issue 14 What 7): standby/unstandby run on that node and
  // answer once its groups have moved (logged there as nodeStandby/nodeUnstandby); maintenance is the
  // engine's nodeMaintenance command (logged by Agent.command).
  app.post<{ Params: { node: string; verb: string }; Body: { timeoutS?: number } }>(
    '/api/nodes/:node/actions/:verb',
    {
      schema: {
        summary: 'A node action (as `mccs node <verb> <node>`)',
        params: { type: 'object', required: ['node', 'verb'], properties: { node: name, verb: { type: 'string', enum: [...NODE_VERBS] } } },
        body: {
          type: 'object',
          additionalProperties: false,
          properties: { timeoutS: { ...timeoutS, description: 'standby: give up moving the groups after this long (default 120)' } },
        },
      },
    },
    async (req) => {
      const { node, verb } = req.params
      const user = userOf(req)
      if (verb === 'maintenance' || verb === 'unmaintenance') {
        return view(await deps.agent.command({ type: 'nodeMaintenance', node, on: verb === 'maintenance', user }))
      }
      const r = await deps.agent.setNodeMode(node, verb === 'standby' ? 'standby' : 'active', user, (req.body?.timeoutS ?? 120) * 1000)
      const failed = r.report?.failed ?? []
      const moves = Object.entries(r.report?.moved ?? {}).map(([g, to]) => (to === 'stopped' ? `${g} stopped` : `${g} moved to ${to}`))
      return {
        accepted: failed.length === 0,
        node: r.node,
        mode: r.mode,
        report: r.report,
        message:
          verb === 'unstandby'
            ? `${node} is out of standby`
            : failed.length
              ? `${node} stays active: ${failed.join(', ')} could not be stopped there`
              : `${node} is in standby${moves.length ? `: ${moves.join(', ')}` : ''}${r.report?.left.length ? `; still there: ${r.report.left.join(', ')}` : ''}`,
      }
    },
  )
}

const NODE_VERBS = ['standby', 'unstandby', 'maintenance', 'unmaintenance'] as const

function opt<K extends string, V>(k: K, v: V | undefined): { [P in K]?: V } {
  return (v === undefined ? {} : { [k]: v }) as { [P in K]?: V }
}

/** {accepted, outcome, message, reached?, status?}: the engine's answer, as `mccs … --json` shows it. */
function view(r: CommandReply) {
  const o = r.outcome
  return {
    accepted: o.status === 'accepted',
    outcome: o,
    message: o.status === 'accepted' ? 'accepted' : `${o.reason} (${o.code})`,
    ...(r.reached !== undefined ? { reached: r.reached } : {}),
    ...(r.status ? { status: r.status } : {}),
  }
}
