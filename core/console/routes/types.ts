// Resource types and the wizard's hooks: GET /api/types, GET /api/types/:type,
// POST /api/types/:type/discover, POST /api/types/:type/validate.
import type { FastifyInstance, FastifyRequest } from 'fastify'
import { requestLanguage } from '../language.js'
import { listTypes, typeInfo, discover, validateAttrs } from '../type-ops.js'
import type { RouteDeps } from './deps.js'

const typeParam = {
  type: 'object',
  required: ['type'],
  properties: { type: { type: 'string', pattern: '^[a-z][a-z0-9-]{0,63}$' } },
} as const
const attrs = { type: 'object', maxProperties: 256 } as const
const node = { type: 'string', pattern: '^[A-Za-z][A-Za-z0-9_.-]{0,63}$' } as const

export function registerTypeRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { agent } = deps
  // Labels and help in the caller's language where the plugin carries a locale file for it.
  const lang = (req: FastifyRequest) => requestLanguage(deps.accounts, deps.productLang, req)
  app.get('/api/types', { schema: { summary: 'The loaded resource types' } }, async (req) => listTypes(agent, lang(req)))

  app.get<{ Params: { type: string } }>(
    '/api/types/:type',
    {
      schema: { summary: "A type's manifest and its wizard (JSON Schema with x-mccs hints)", params: typeParam },
    },
    async (req) => typeInfo(agent, req.params.type, lang(req)),
  )

  app.post<{ Params: { type: string }; Body: { field: string; node?: string; attrs: Record<string, unknown> } }>(
    '/api/types/:type/discover',
    {
      schema: {
        summary: "Fill a wizard list: the type's discover hook for one field (runs on the node given, this one by default)",
        params: typeParam,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['field', 'attrs'],
          properties: { field: { type: 'string', minLength: 1, maxLength: 128 }, node, attrs },
        },
      },
    },
    async (req) => discover(agent, req.params.type, req.body),
  )

  app.post<{ Params: { type: string }; Body: { perNode: Record<string, Record<string, unknown>> } }>(
    '/api/types/:type/validate',
    {
      schema: {
        summary: "Check a resource's attributes per node: the type's schema, then its validate hook",
        params: typeParam,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['perNode'],
          properties: {
            perNode: {
              type: 'object',
              minProperties: 1,
              maxProperties: 64,
              additionalProperties: attrs,
              description: 'node name -> the attributes resolved for that node',
            },
          },
        },
      },
    },
    async (req) => validateAttrs(agent, req.params.type, req.body.perNode),
  )
}
