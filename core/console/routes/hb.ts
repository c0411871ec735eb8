// Live heartbeat configuration from the console and the REST API (issue 16, What 3): POST /api/hb/change
// {change, expectGeneration?} runs the same change as `mccs hb ...` (core/agent/hb-sync.ts: through the
// coordinator, two phases on every member, in the operation log). The change is checked field by field in
// core/agent/hb-change.ts; a refusal answers with its code, field and reason, and nothing changed.
import type { FastifyInstance } from 'fastify'
import type { RouteDeps } from './deps.js'
import { userOf } from './deps.js'
import { redactJson } from '../../log/redact.js'

export function registerHbRoutes(app: FastifyInstance, deps: RouteDeps): void {
  // What a change is checked against and what it made: the hb.json this node has in force (generation,
  // quorum settings and all), fence device secrets redacted as in GET /api/config.
  app.get(
    '/api/hb',
    { schema: { summary: 'The heartbeat configuration (hb.json) in force on this node, fence device secrets redacted' } },
    async () => redactJson(deps.agent.store.current().hb),
  )
  app.post<{ Body: { change: Record<string, unknown>; expectGeneration?: number } }>(
    '/api/hb/change',
    {
      schema: {
        summary:
          'Change hb.json in the running cluster: setTiming {intervalMs, deadMs}, setQuorum {fenceDelayMs?, server? {host, port?, servername?, caFile, keyFile} | null, twoNode?} (each member reads the CA and key files from its config folder; a new server must answer every member), addLink {name, priority, addresses}, removeLink {name}, addNode {name, addresses, fencingLike?}, removeNode {name}, renameNode {name, newName} (also POST /api/nodes/{node}/rename). The cluster name and the heartbeat port never change live.',
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['change'],
          properties: {
            change: { type: 'object', maxProperties: 8, required: ['op'], properties: { op: { type: 'string', maxLength: 32 } } },
            expectGeneration: { type: 'integer', minimum: 1, description: 'refuse the change unless hb.json is at this generation' },
          },
        },
      },
    },
    async (req) =>
      deps.agent.hbChange(req.body.change, {
        user: userOf(req),
        ...(req.body.expectGeneration !== undefined ? { expectGeneration: req.body.expectGeneration } : {}),
      }),
  )
}
