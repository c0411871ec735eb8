// The agent log's level on this node, changed at run time (issue 18, What 6; the manual's log attributes):
// GET /api/log-level, PUT /api/log-level {level}. The change is in force at once for every component, logged
// in the operation log and kept across a restart of the agent (core/agent/log-level.ts).
import type { FastifyInstance } from 'fastify'
import { LEVELS, type Level } from '../../log/logger.js'
import type { RouteDeps } from './deps.js'
import { userOf } from './deps.js'

export function registerLogLevelRoutes(app: FastifyInstance, deps: RouteDeps): void {
  app.get(
    '/api/log-level',
    {
      schema: { summary: "This node's agent log level (debug, info, warn, error)" },
    },
    async () => deps.agent.logLevel.info(),
  )

  app.put<{ Body: { level: Level } }>(
    '/api/log-level',
    {
      schema: {
        summary: "Change this node's agent log level now (kept across a restart of the agent)",
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['level'],
          properties: { level: { type: 'string', enum: [...LEVELS] } },
        },
      },
    },
    async (req) => deps.agent.logLevel.set(req.body.level, userOf(req)),
  )
}
