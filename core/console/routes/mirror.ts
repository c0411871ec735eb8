// A mirror disk's state in the console (issue 15, What 4): GET /api/mirror?resource= answers what
// `mccs mirror status <resource>` prints (core/mirror/control.ts, one code for both): this node's copy and
// the other node's, asked over the agents' peer channel.
import type { FastifyInstance } from 'fastify'
import { mirrorControl, type MirrorSides } from '../../mirror/control.js'
import type { RouteDeps } from './deps.js'

export function registerMirrorRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { agent } = deps
  app.get<{ Querystring: { resource: string } }>(
    '/api/mirror',
    {
      schema: {
        summary:
          "A mirror disk's replication state on both nodes: role, disk state, connection (sync percent, rate, ETA), generation, split brain (what `mccs mirror status` prints)",
        querystring: {
          type: 'object',
          additionalProperties: false,
          required: ['resource'],
          properties: {
            resource: {
              type: 'string',
              pattern: '^[A-Za-z0-9_.:@-]{1,128}$',
              description: 'a mirror-disk resource with a copy on this node',
            },
          },
        },
      },
    },
    async (req): Promise<MirrorSides[]> =>
      (await mirrorControl(agent.mirror, { op: 'status', resource: req.query.resource })) as MirrorSides[],
  )
}
