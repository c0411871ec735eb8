// Configuration routes: groups, resources, dependencies, the whole main.json, node rename.
// Each edit is one configEdit() of core/agent/config-edit.ts — the same operation `mccs group add` etc.
// run through the control socket (checked against what may run, validated, generation checked, logged).
// A refusal answers 400 (409 for a generation conflict) with {error, issues:[{field, message}]}, the
// fields being JSON pointers into the request body where the issue concerns it.
import type { FastifyInstance, FastifyReply } from 'fastify'
import { configEdit, type ConfigEditReply } from '../../agent/config-edit.js'
import { readJson } from '../../config/json-text.js'
import { issuesOf } from '../../config/issue.js'
import { isMccsError } from '../../errors.js'
import { type MainConfig, SHIPPED_DEFAULTS } from '../../engine/index.js'
import { errorBody, reasonOf, statusOf } from '../http-errors.js'
import { audit } from '../audit.js'
import { nestingProblem } from '../json-limits.js'
import type { RouteDeps } from './deps.js'
import { userOf } from './deps.js'

const name = { type: 'string', pattern: '^[A-Za-z][A-Za-z0-9_.-]{0,63}$', maxLength: 64 } as const
const nodes = { type: 'array', items: name, minItems: 1, maxItems: 64, uniqueItems: true } as const
const attrs = { type: 'object', maxProperties: 256 } as const
const nodeAttrs = { type: 'object', maxProperties: 64, additionalProperties: attrs } as const
const generation = { type: 'integer', minimum: 1, description: 'refuse the change unless this generation is in force' } as const
const policy = {
  type: 'object',
  additionalProperties: false,
  properties: Object.fromEntries(Object.keys(SHIPPED_DEFAULTS).map((k) => [k, { type: ['integer', 'number', 'boolean', 'string'] }])),
} as const
const groupFields = {
  nodes,
  failoverOnFailure: { type: 'boolean' },
  autoStart: { type: 'boolean' },
  autoFailback: { type: 'boolean' },
  expectGeneration: generation,
} as const
const resourceFields = {
  type: name,
  group: name,
  attrs,
  nodeAttrs,
  critical: { type: 'boolean' },
  monitored: { type: 'boolean' },
  policy,
  expectGeneration: generation,
} as const
const force = {
  type: 'object',
  additionalProperties: false,
  properties: { force: { type: 'boolean' }, expectGeneration: generation },
} as const

type Body = Record<string, unknown> & { expectGeneration?: number }

/** The answer of every configuration change (OpenAPI only: fastify does not serialize by it). */
const changed = {
  200: {
    description:
      'Done. warnings: what the configuration in force now contradicts in the manual (address -> aws-oip|aws-sip -> nic, aws-eip -> nic, ' +
      "an address on another NIC than its nic resource's device, an Overlay/Secondary IP without an address above it); the same as the CLI prints",
    content: {
      'application/json': {
        schema: {
          type: 'object',
          required: ['generation', 'summary', 'warnings'],
          properties: {
            generation: { type: 'integer' },
            summary: { type: 'string' },
            removed: {
              type: 'object',
              description: 'what a forced delete removed with it',
              properties: {
                resources: { type: 'array', items: { type: 'string' } },
                dependencies: {
                  type: 'array',
                  items: { type: 'object', properties: { parent: { type: 'string' }, child: { type: 'string' } } },
                },
              },
            },
            warnings: {
              type: 'array',
              items: {
                type: 'object',
                required: ['resource', 'field', 'message'],
                properties: {
                  resource: { type: 'string' },
                  field: { type: 'string', description: 'main.json#/resources/<index>' },
                  message: { type: 'string' },
                  link: {
                    type: 'object',
                    description: 'the one dependency that answers this warning (parent depends on child), when the group leaves no choice',
                    properties: { parent: { type: 'string' }, child: { type: 'string' } },
                  },
                },
              },
            },
          },
        },
      },
    },
  },
} as const

/** The largest main.json the console imports (about 4,000 resources); `mccs config import` takes larger ones. */
export const MAX_CONFIG_TEXT = 4 * 1024 * 1024
const MAX_CONFIG_DEPTH = 64

export function registerConfigRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { agent } = deps
  /** Runs one configuration operation; `rename` maps the operation's argument names to the body's. */
  const edit = async (
    reply: FastifyReply,
    user: string,
    op: string,
    args: Record<string, unknown>,
    expectGeneration: number | undefined,
    at: { kind: 'groups' | 'resources' | null; name: string | null; rename: Record<string, string> },
  ) => {
    // Where the group or resource sits in main.json (appended when new), to point its issues into the body.
    const list: Array<{ name: string }> = at.kind ? agent.store.current().main[at.kind] : []
    const found = at.name ? list.findIndex((x) => x.name === at.name) : -1
    const index = at.kind ? (found >= 0 ? found : list.length) : -1
    const r = await configEdit(agent, { op, args, user, ...(expectGeneration !== undefined ? { expectGeneration } : {}) })
    if (r.ok)
      return {
        generation: r.generation,
        summary: r.summary,
        ...(r.removed ? { removed: r.removed } : {}),
        // What `mccs group|resource add|edit|link` prints as warnings: the change is made, but against the manual.
        warnings: (r.warnings ?? []).map((w) => ({
          resource: w.resource,
          field: `main.json#${w.path}`,
          message: w.reason,
          ...(w.link ? { link: w.link } : {}),
        })),
      }
    const body = refusal(r, { ...at, index })
    // Something named in the path that does not exist is a 404; named in the body, a bad body (400).
    const status =
      r.code === 'MCCS_ERR_NOT_FOUND' && !body.error.field?.startsWith('/params/') ? statusOf('MCCS_ERR_INVALID') : statusOf(r.code)
    return reply.code(status).send(body)
  }
  const gen = (b: Body) => b.expectGeneration
  const strip = (b: Body) => {
    const { expectGeneration: _g, ...rest } = b
    return rest
  }

  app.post<{ Body: Body & { name: string } }>(
    '/api/groups',
    {
      schema: {
        summary: 'Add a group',
        'x-responses': changed,
        body: { type: 'object', additionalProperties: false, required: ['name', 'nodes'], properties: { name, ...groupFields } },
      },
    },
    async (req, reply) => {
      const { name: group, ...rest } = strip(req.body)
      return edit(reply, userOf(req), 'groupAdd', { group, ...rest }, gen(req.body), {
        kind: 'groups',
        name: group as string,
        rename: { group: '/name' },
      })
    },
  )

  app.patch<{ Params: { group: string }; Body: Body }>(
    '/api/groups/:group',
    {
      schema: {
        summary: 'Change a group',
        'x-responses': changed,
        params: { type: 'object', required: ['group'], properties: { group: name } },
        body: { type: 'object', additionalProperties: false, minProperties: 1, properties: groupFields },
      },
    },
    async (req, reply) =>
      edit(reply, userOf(req), 'groupEdit', { group: req.params.group, ...strip(req.body) }, gen(req.body), {
        kind: 'groups',
        name: req.params.group,
        rename: { group: '/params/group' },
      }),
  )

  app.delete<{ Params: { group: string }; Querystring: { force?: boolean; expectGeneration?: number } }>(
    '/api/groups/:group',
    {
      schema: {
        summary: 'Delete a group (force: with its resources)',
        'x-responses': changed,
        params: { type: 'object', required: ['group'], properties: { group: name } },
        querystring: force,
      },
    },
    async (req, reply) =>
      edit(reply, userOf(req), 'groupDelete', { group: req.params.group, force: req.query.force === true }, req.query.expectGeneration, {
        kind: null,
        name: null,
        rename: { group: '/params/group' },
      }),
  )

  app.post<{ Body: Body & { name: string } }>(
    '/api/resources',
    {
      schema: {
        summary: 'Add a resource',
        'x-responses': changed,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['name', 'type', 'group', 'attrs'],
          properties: { name, ...resourceFields },
        },
      },
    },
    async (req, reply) => {
      const { name: resource, ...rest } = strip(req.body)
      return edit(reply, userOf(req), 'resourceAdd', { resource, ...rest }, gen(req.body), {
        kind: 'resources',
        name: resource as string,
        rename: { resource: '/name' },
      })
    },
  )

  app.patch<{ Params: { resource: string }; Body: Body }>(
    '/api/resources/:resource',
    {
      schema: {
        summary: 'Change a resource (attrs, nodeAttrs and policy are merged over the current values)',
        'x-responses': changed,
        params: { type: 'object', required: ['resource'], properties: { resource: name } },
        body: {
          type: 'object',
          additionalProperties: false,
          minProperties: 1,
          properties: {
            ...resourceFields,
            unsetAttrs: {
              type: 'array',
              maxItems: 256,
              items: { type: 'string', minLength: 1, maxLength: 200 },
              description: 'attributes to remove: key, or node:key',
            },
            unsetPolicy: { type: 'array', maxItems: 64, items: { type: 'string', enum: Object.keys(SHIPPED_DEFAULTS) } },
          },
        },
      },
    },
    async (req, reply) =>
      edit(reply, userOf(req), 'resourceEdit', { resource: req.params.resource, ...strip(req.body) }, gen(req.body), {
        kind: 'resources',
        name: req.params.resource,
        rename: { resource: '/params/resource' },
      }),
  )

  app.delete<{ Params: { resource: string }; Querystring: { force?: boolean; expectGeneration?: number } }>(
    '/api/resources/:resource',
    {
      schema: {
        summary: 'Delete a resource (force: with its dependencies)',
        'x-responses': changed,
        params: { type: 'object', required: ['resource'], properties: { resource: name } },
        querystring: force,
      },
    },
    async (req, reply) =>
      edit(
        reply,
        userOf(req),
        'resourceDelete',
        { resource: req.params.resource, force: req.query.force === true },
        req.query.expectGeneration,
        { kind: null, name: null, rename: { resource: '/params/resource' } },
      ),
  )

  app.post<{ Body: Body & { parent: string; child: string } }>(
    '/api/dependencies',
    {
      schema: {
        summary: 'Link two resources: parent depends on child',
        'x-responses': changed,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['parent', 'child'],
          properties: { parent: name, child: name, expectGeneration: generation },
        },
      },
    },
    async (req, reply) => edit(reply, userOf(req), 'resourceLink', strip(req.body), gen(req.body), { kind: null, name: null, rename: {} }),
  )

  app.delete<{ Params: { parent: string; child: string } }>(
    '/api/dependencies/:parent/:child',
    {
      schema: {
        summary: 'Remove a dependency',
        'x-responses': changed,
        params: { type: 'object', required: ['parent', 'child'], properties: { parent: name, child: name } },
      },
    },
    async (req, reply) =>
      edit(reply, userOf(req), 'resourceUnlink', { ...req.params }, undefined, {
        kind: null,
        name: null,
        rename: { parent: '/params/parent', child: '/params/child' },
      }),
  )

  app.put<{ Body: { text: string; expectGeneration: number } }>(
    '/api/config',
    {
      // The one large body: main.json as text (escaped in the JSON body, hence the margin over MAX_TEXT).
      bodyLimit: Math.ceil(MAX_CONFIG_TEXT * 1.5),
      schema: {
        summary: 'Replace main.json (validated as a whole; refused unless expectGeneration is in force)',
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['text', 'expectGeneration'],
          properties: { text: { type: 'string', maxLength: MAX_CONFIG_TEXT }, expectGeneration: generation },
        },
      },
    },
    async (req, reply) => {
      const user = userOf(req) // known before anything changes
      const record = { user, command: 'configReplace', args: { expectGeneration: req.body.expectGeneration } }
      const refuse = async (status: number, body: ReturnType<typeof errorBody>) => {
        await audit(agent, { ...record, result: 'rejected', code: body.error.code, reason: body.error.message })
        return reply.code(status).send(body)
      }
      // The text is parsed by a recursive scanner: its nesting is bounded first, like every request body's.
      const deep = nestingProblem(req.body.text, MAX_CONFIG_DEPTH)
      if (deep)
        return refuse(statusOf('MCCS_ERR_CONFIG_SYNTAX'), errorBody('MCCS_ERR_CONFIG_SYNTAX', `main.json is ${deep.reason}`, '/text'))
      const parsed = readJson(req.body.text)
      if (!parsed.ok) {
        return refuse(
          statusOf('MCCS_ERR_CONFIG_SYNTAX'),
          errorBody('MCCS_ERR_CONFIG_SYNTAX', `line ${parsed.error.line}, column ${parsed.error.column}: ${parsed.error.reason}`, '/text'),
        )
      }
      try {
        await agent.applyConfig(parsed.value as MainConfig, req.body.expectGeneration)
      } catch (e) {
        const issues = issuesOf(e)
        if (!isMccsError(e)) {
          await audit(agent, { ...record, result: 'failed', code: 'MCCS_ERR_INTERNAL', reason: (e as Error)?.message ?? String(e) }).catch(
            () => {},
          )
          throw e
        }
        return refuse(
          statusOf(e.code),
          errorBody(
            e.code,
            reasonOf(e),
            e.code === 'MCCS_ERR_CONFIG_GENERATION' ? '/expectGeneration' : '/text',
            issues ? { issues: issues.map((i) => ({ field: `/text${i.path}`, message: i.reason })) } : {},
          ),
        )
      }
      const generation = agent.store.current().main.generation
      await audit(agent, { ...record, args: { ...record.args, generation }, result: 'done' })
      agent.log.log('info', 'configuration replaced from the console', { user, generation })
      return { generation }
    },
  )

  app.post<{ Params: { node: string }; Body: { name: string; expectGeneration?: number } }>(
    '/api/nodes/:node/rename',
    {
      schema: {
        summary:
          'Rename a stopped node (issue 16): hb.json and main.json change together on every member, in two phases through the coordinator. ' +
          'Refused (409, field /params/node) while the node runs; then, on its host: mccs setup --rename <name>, and start its agent',
        params: { type: 'object', required: ['node'], properties: { node: name } },
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['name'],
          properties: {
            name,
            expectGeneration: { type: 'integer', minimum: 1, description: 'refuse the rename unless hb.json is at this generation' },
          },
        },
      },
    },
    async (req, reply) => {
      const { node } = req.params
      try {
        const r = await agent.hbChange(
          { op: 'renameNode', name: node, newName: req.body.name },
          { user: userOf(req), ...(req.body.expectGeneration !== undefined ? { expectGeneration: req.body.expectGeneration } : {}) },
        )
        return { ...r, next: `on the host of ${node}, with its agent stopped: mccs setup --rename ${req.body.name}, then start the agent` }
      } catch (e) {
        if (!isMccsError(e)) throw e
        // The change's fields as this route names them: the node in the path, the new name in the body.
        const field = e.field === 'name' ? '/params/node' : e.field === 'newName' ? '/name' : e.field
        return reply.code(statusOf(e.code)).send(errorBody(e.code, reasonOf(e), field))
      }
    },
  )
}

/** The refusal as the API answers it: the first problem in `error`, every one in `issues`, as body pointers where possible. */
function refusal(
  r: Extract<ConfigEditReply, { ok: false }>,
  at: { kind: 'groups' | 'resources' | null; index: number; rename: Record<string, string> },
) {
  const field = (f: string | undefined): string | undefined => {
    if (f === undefined) return undefined
    if (f.startsWith('/')) return f
    const head = f.split('.')[0]!
    return at.rename[head] ?? `/${f.replace(/\./g, '/')}`
  }
  const issues = (r.issues ?? []).map((i) => ({ field: issueField(i.path, at), message: i.reason }))
  const first = issues[0]
  const f = field(r.field) ?? first?.field
  return errorBody(
    r.code,
    first && !r.field ? first.message : r.reason,
    f,
    issues.length ? { issues } : { issues: [{ field: f ?? '/', message: r.reason }] },
  )
}

/** A main.json pointer as a pointer into the request body when it points into the group or resource being edited. */
function issueField(p: string, at: { kind: 'groups' | 'resources' | null; index: number }): string {
  if (at.kind) {
    const m = new RegExp(`^/${at.kind}/${at.index}(/.*)?$`).exec(p)
    if (m) return m[1] ?? '/'
  }
  return `main.json#${p}`
}
