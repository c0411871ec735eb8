// Support files (manual 4.2.5.1): collect from all nodes or some, list earlier bundles, download one.
//   POST /api/support {nodes: 'all' | [names]} -> {id, createdAt, nodes, size, unreachable}
//   GET  /api/support                          -> earlier bundles, newest first
//   GET  /api/support/:id                      -> application/gzip (tar.gz)
// The cluster layer wires `collectFromPeers` (peer channel); without it other nodes are named unreachable.
import { createReadStream } from 'node:fs'
import type { FastifyInstance } from 'fastify'
import type { Agent } from '../../agent/agent.js'
import { MAX_NODES } from '../../config/schema.js'
import type { Bootstrap } from '../../config/bootstrap.js'
import { createSupportBundle, supportStore, type SupportDeps } from '../../support/service.js'
import { BUNDLE_ID } from '../../support/store.js'
import { sendError } from '../http-errors.js'
import { audited } from '../audit.js'
import { userOf } from './deps.js'

/** The console's error answer (core/console/http-errors.ts). */
const errorSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string' }, field: { type: 'string' }, subject: { type: 'string' } },
    },
  },
} as const

export interface SupportRouteDeps {
  agent: Agent
  bootstrap?: Bootstrap
  collectFromPeers?: (node: string) => Promise<Buffer>
}

const NODE_NAME = '^[A-Za-z][A-Za-z0-9_.-]{0,63}$'
const bundleInfo = {
  type: 'object',
  required: ['id', 'createdAt', 'nodes', 'size'],
  properties: {
    id: { type: 'string' },
    createdAt: { type: 'string' },
    size: { type: 'integer' },
    nodes: { type: 'array', items: { type: 'string' } },
    unreachable: { type: 'array', items: { type: 'object', properties: { node: { type: 'string' }, reason: { type: 'string' } } } },
  },
} as const

export function supportDeps(deps: SupportRouteDeps): SupportDeps {
  const b = deps.bootstrap ?? deps.agent.opts.bootstrap
  return {
    bootstrap: b,
    status: () => deps.agent.statusAnywhere(),
    clusterNodes: () => deps.agent.store.current().hb.nodes.map((n) => n.name),
    // Other nodes' bundles come over the peer channel (Agent.supportBundleOf) unless a test wires its own.
    collectFromPeers: deps.collectFromPeers ?? ((node: string) => deps.agent.supportBundleOf(node)),
  }
}

export async function registerSupportRoutes(app: FastifyInstance, deps: SupportRouteDeps): Promise<void> {
  const sd = supportDeps(deps)
  const store = supportStore(sd)
  sd.store = store

  app.post(
    '/api/support',
    {
      schema: {
        summary: 'Collect support files from all nodes or the ones named',
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['nodes'],
          properties: {
            nodes: {
              anyOf: [{ const: 'all' }, { type: 'array', minItems: 1, maxItems: MAX_NODES, items: { type: 'string', pattern: NODE_NAME } }],
            },
          },
        },
        response: { 200: bundleInfo, 400: errorSchema },
      },
    },
    async (req, reply) => {
      const nodes = (req.body as { nodes: 'all' | string[] }).nodes
      const user = userOf(req) // known before anything is collected
      try {
        return await audited(deps.agent, { user, command: 'supportCollect', args: { nodes } }, () => createSupportBundle(sd, nodes))
      } catch (e) {
        return sendError(reply, e)
      }
    },
  )

  app.get(
    '/api/support',
    {
      schema: { summary: 'Support bundles kept on this node, newest first', response: { 200: { type: 'array', items: bundleInfo } } },
    },
    async () => store.list(),
  )

  app.get(
    '/api/support/:id',
    {
      schema: {
        summary: 'Download a support bundle (tar.gz)',
        params: { type: 'object', required: ['id'], properties: { id: { type: 'string', pattern: BUNDLE_ID.source } } },
        response: { 400: errorSchema, 404: errorSchema },
      },
    },
    async (req, reply) => {
      const { id } = req.params as { id: string }
      try {
        const file = await store.path(id)
        return reply
          .type('application/gzip')
          .header('content-disposition', `attachment; filename="mccs-support-${id}.tar.gz"`)
          .send(createReadStream(file))
      } catch (e) {
        return sendError(reply, e)
      }
    },
  )
}
