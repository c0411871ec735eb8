// Licenses per node (manual 5.4.2.2, the console's Window -> Preferences -> License Settings).
//   GET  /api/licenses          -> [{node, type, expires, hostId, valid, reason?}] for every node
//   POST /api/licenses {node, text} -> the installed license's view, or 400 naming the field
// This node's license is read and installed here; other nodes' go through `peers` (the cluster layer
// wires them over the peer channel); without them another node shows as unknown and cannot be set.
import type { FastifyInstance } from 'fastify'
import type { Agent } from '../../agent/agent.js'
import type { Bootstrap } from '../../config/bootstrap.js'
import { MccsError, isMccsError } from '../../errors.js'
import { installLicense, type LicenseView } from '../../license/store.js'
import { replyError, sendError } from '../http-errors.js'
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

export interface LicensePeers {
  view(node: string): Promise<LicenseView>
  install(node: string, text: string): Promise<LicenseView>
}

export interface LicenseRouteDeps {
  agent: Agent
  bootstrap?: Bootstrap
  licensePeers?: LicensePeers
  now?: () => number
}

/** A reason's words (core/engine/said.ts): the console renders them in its language. */
const said = {
  type: 'object',
  properties: { id: { type: 'string' }, params: { type: 'object', additionalProperties: true } },
} as const

const view = {
  type: 'object',
  required: ['node', 'type', 'expires', 'hostId', 'valid'],
  properties: {
    node: { type: 'string' },
    type: { type: ['string', 'null'] },
    expires: { type: ['string', 'null'] },
    hostId: { type: ['string', 'null'] },
    valid: { type: 'boolean' },
    reason: { type: 'string' },
    said,
    licensee: { type: 'string' },
    // issue 17: limited mode, days left, warnings (expiry, the 7-day rule, a floating license's server)
    mode: { type: 'string', enum: ['valid', 'limited'] },
    code: { type: 'string' },
    daysLeft: { type: ['integer', 'null'] },
    warning: { type: 'string' },
    warningSaid: said,
    server: { type: 'string' },
  },
} as const

export async function registerLicenseRoutes(app: FastifyInstance, deps: LicenseRouteDeps): Promise<void> {
  const b = deps.bootstrap ?? deps.agent.opts.bootstrap
  const now = deps.now ?? Date.now
  const nodes = () => deps.agent.store.current().hb.nodes.map((n) => n.name)
  // Other nodes over the peer channel (Agent.licenseOf) unless a test wires its own.
  deps = {
    ...deps,
    licensePeers: deps.licensePeers ?? {
      view: async (node) => (await deps.agent.licenseOf(node)) as LicenseView,
      install: async (node, text) => (await deps.agent.licenseOf(node, text)) as LicenseView,
    },
  }

  app.get(
    '/api/licenses',
    {
      schema: {
        summary: 'License state of every node (valid, or limited with the reason)',
        response: { 200: { type: 'array', items: view } },
      },
    },
    async () =>
      Promise.all(
        nodes().map(async (node): Promise<LicenseView> => {
          // This node: the running agent's own judgement (its lease client's seat, not the lease file).
          if (node === b.nodeName) return deps.agent.licenses.watch.current()
          if (!deps.licensePeers)
            return {
              node,
              type: null,
              expires: null,
              hostId: null,
              valid: false,
              reason: "unknown: reading other nodes' licenses is not wired in this agent",
            }
          try {
            return await deps.licensePeers.view(node)
          } catch (e) {
            return { node, type: null, expires: null, hostId: null, valid: false, reason: `unknown: ${(e as Error).message}` }
          }
        }),
      ),
  )

  app.post(
    '/api/licenses',
    {
      schema: {
        summary: 'Install (or renew) the license of a node',
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['node', 'text'],
          properties: { node: { type: 'string', minLength: 1, maxLength: 64 }, text: { type: 'string', minLength: 1, maxLength: 16384 } },
        },
        response: { 200: view, 400: errorSchema, 503: errorSchema },
      },
    },
    async (req, reply) => {
      const { node, text } = req.body as { node: string; text: string }
      const user = userOf(req) // known before anything changes
      try {
        return await audited(deps.agent, { user, command: 'licenseInstall', target: node }, async () => {
          if (!nodes().includes(node))
            throw new MccsError('MCCS_ERR_INVALID', `${JSON.stringify(node)} is not a node of this cluster`, { field: '/node' })
          if (node === b.nodeName) {
            await installLicense(b, text, now())
            deps.agent.log.log('info', 'license installed', { node, user })
            await deps.agent.licenses.watch.check() // in effect now, not at the next periodic check
            return deps.agent.licenses.watch.current()
          }
          if (!deps.licensePeers)
            throw new MccsError(
              'MCCS_ERR_PEER_UNREACHABLE',
              `installing a license on ${node} from here is not wired in this agent; install it on ${node}`,
              { field: '/node' },
            )
          return await deps.licensePeers.install(node, text)
        })
      } catch (e) {
        // License refusals are about the body's /text (status from the catalogue), the message naming the license field.
        if (isMccsError(e) && e.code.startsWith('MCCS_ERR_LICENSE_')) {
          const inner = e.field && e.field !== '/text' ? `${e.field.slice(1)}: ` : ''
          return replyError(reply, e.code, `${inner}${e.reason}`, '/text')
        }
        return sendError(reply, e)
      }
    },
  )
}
