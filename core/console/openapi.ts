// The OpenAPI 3.1 document of the console's API, generated from the routes as fastify registers them
// (onRoute hook): the same JSON schemas that validate the requests describe them. Routes marked
// `hidden` (the console page and its assets) are left out; `public` ones carry `security: []`.
import type { RouteOptions } from 'fastify'

interface Op {
  method: string
  url: string
  schema: Record<string, unknown>
  auth: string
}

export class OpenApiCollector {
  private readonly ops: Op[] = []

  /** fastify onRoute hook. */
  readonly onRoute = (r: RouteOptions): void => {
    const cfg = (r.config ?? {}) as { auth?: string; hidden?: boolean }
    if (cfg.hidden || !r.url.startsWith('/api/')) return
    for (const m of [r.method].flat()) {
      if (m === 'HEAD' || m === 'OPTIONS') continue // fastify adds HEAD for every GET
      this.ops.push({
        method: m.toLowerCase(),
        url: r.url,
        schema: (r.schema ?? {}) as Record<string, unknown>,
        auth: cfg.auth ?? 'session',
      })
    }
  }

  document(info: { version: string }): Record<string, unknown> {
    const paths: Record<string, Record<string, unknown>> = {}
    for (const op of this.ops) {
      const p = op.url.replace(/:([A-Za-z0-9_]+)/g, '{$1}')
      const s = op.schema
      const parameters: unknown[] = []
      for (const [part, where] of [
        ['params', 'path'],
        ['querystring', 'query'],
      ] as const) {
        const sch = s[part] as { properties?: Record<string, unknown>; required?: string[] } | undefined
        for (const [name, schema] of Object.entries(sch?.properties ?? {})) {
          parameters.push({ name, in: where, required: where === 'path' || (sch?.required ?? []).includes(name), schema })
        }
      }
      const mutating = op.method !== 'get'
      const operation: Record<string, unknown> = {
        operationId: `${op.method}${p
          .replace(/[{}]/g, '')
          .split(/[/-]/)
          .map((w) => w.charAt(0).toUpperCase() + w.slice(1))
          .join('')}`,
        ...(s['summary'] ? { summary: s['summary'] } : {}),
        ...(s['description'] ? { description: s['description'] } : {}),
        ...(parameters.length ? { parameters } : {}),
        ...(s['body'] ? { requestBody: { required: true, content: { 'application/json': { schema: s['body'] } } } } : {}),
        responses: {
          ...((s['x-responses'] as Record<string, unknown>) ?? { 200: { description: 'OK (JSON)' } }),
          ...(op.auth === 'public' ? {} : { 401: ref('Error', 'no valid session') }),
          ...(mutating && op.auth !== 'public' ? { 403: ref('Error', 'CSRF token missing, or the password must be changed first') } : {}),
          400: ref('Error', 'a bad request; error.field is the JSON pointer of the offending value'),
        },
        security: op.auth === 'public' ? [] : mutating ? [{ session: [], csrf: [] }] : [{ session: [] }],
        ...(op.auth === 'pending' ? { 'x-mccs-allowed-before-password-change': true } : {}),
      }
      ;(paths[p] ??= {})[op.method] = operation
    }
    return {
      openapi: '3.1.0',
      info: { title: 'MCCS console API', version: info.version, description: 'The REST API of the MCCS web console (docs/api.md).' },
      jsonSchemaDialect: 'https://json-schema.org/draft/2020-12/schema',
      paths,
      components: {
        securitySchemes: {
          session: { type: 'apiKey', in: 'cookie', name: 'mccs_session' },
          csrf: { type: 'apiKey', in: 'header', name: 'x-csrf-token' },
        },
        schemas: {
          Error: {
            type: 'object',
            required: ['error'],
            properties: {
              error: {
                type: 'object',
                required: ['code', 'message'],
                properties: { code: { type: 'string' }, message: { type: 'string' }, field: { type: 'string' } },
              },
              issues: { type: 'array', items: { type: 'object', properties: { field: { type: 'string' }, message: { type: 'string' } } } },
            },
          },
        },
      },
    }
  }
}

function ref(name: string, description: string) {
  return { description, content: { 'application/json': { schema: { $ref: `#/components/schemas/${name}` } } } }
}
