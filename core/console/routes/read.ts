// Read-only routes: GET /api/status, /api/config, /api/oplog, /api/logs, /api/openapi.json.
import { redactJson } from '../../log/redact.js'
import type { FastifyInstance } from 'fastify'
import { tailLines } from '../log-files.js'
import { oplogEntry } from '../oplog-view.js'
import type { RouteDeps } from './deps.js'

const MAX_LINES = 10_000

export function registerReadRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { agent } = deps

  app.get('/api/status', {
    schema: { summary: 'Cluster status: nodes, groups, resources per node (the JSON of `mccs status --json`)' },
  }, async () => agent.statusAnywhere())

  app.get('/api/config', {
    schema: { summary: 'The configuration in force: main.json text and its generation, and hb.json (read-only here; fence device secrets redacted)' },
  }, async () => {
    const { main, hb } = agent.store.current()
    return { generation: main.generation, text: JSON.stringify(main, null, 2) + '\n', hb: redactJson(hb) }
  })

  app.get<{ Querystring: { limit?: number } }>('/api/oplog', {
    schema: {
      summary: 'The manual operation log, newest last',
      querystring: { type: 'object', additionalProperties: false, properties: { limit: { type: 'integer', minimum: 1, maximum: MAX_LINES, default: 200 } } },
    },
  }, async (req) => {
    const lines = await tailLines(deps.settings.oplogFile, req.query.limit ?? 200)
    return lines.map(oplogEntry).filter((e) => e !== null)
  })

  app.get<{ Querystring: { lines?: number } }>('/api/logs', {
    schema: {
      summary: "This node's agent log (JSON lines), newest last",
      querystring: { type: 'object', additionalProperties: false, properties: { lines: { type: 'integer', minimum: 1, maximum: MAX_LINES, default: 200 } } },
    },
  }, async (req) => {
    agent.log.flush()
    return { lines: await tailLines(deps.settings.logFile, req.query.lines ?? 200) }
  })

  app.get('/api/openapi.json', {
    config: { auth: 'public' },
    schema: { summary: 'This document' },
  }, async () => deps.openapi.document({ version: '1.0.0' }))
}
