// The agent log's level on this node, changed at run time (issue 18, What 6; the manual's log attributes):
// GET /api/log-level, PUT /api/log-level {level}. The change is in force at once for every component and
// logged in the operation log; it lasts until the agent restarts (the level at start comes from settings).
import type { FastifyInstance } from 'fastify'
import { LEVELS, type Level } from '../../log/logger.js'
import { MccsError } from '../../errors.js'
import { audited } from '../audit.js'
import type { RouteDeps } from './deps.js'
import { userOf } from './deps.js'

export function registerLogLevelRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const log = deps.agent.log
  const current = (): Level => log.level?.() ?? 'info'

  app.get(
    '/api/log-level',
    {
      schema: { summary: "This node's agent log level (debug, info, warn, error)" },
    },
    async () => ({ node: deps.agent.node, level: current(), levels: LEVELS }),
  )

  app.put<{ Body: { level: Level } }>(
    '/api/log-level',
    {
      schema: {
        summary: "Change this node's agent log level now (until the agent restarts)",
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['level'],
          properties: { level: { type: 'string', enum: [...LEVELS] } },
        },
      },
    },
    async (req) => {
      const { level } = req.body
      if (!log.setLevel)
        throw new MccsError('MCCS_ERR_INVALID', "this agent's log cannot change its level at run time", { field: '/body/level' })
      const before = current()
      await audited(deps.agent, { user: userOf(req), command: 'logLevel', target: deps.agent.node, args: { level, before } }, async () => {
        // Said at info while info is still written: before a raise, after a lowering.
        const say = () => log.log('info', `log level set to ${level} (was ${before})`, { user: userOf(req) })
        const raising = LEVELS.indexOf(level) > LEVELS.indexOf(before)
        if (raising) say()
        log.setLevel!(level)
        if (!raising) say()
      })
      return { node: deps.agent.node, level: current(), levels: LEVELS }
    },
  )
}
