// Read-only routes: GET /api/status, /api/config, /api/oplog, /api/oplog/all, /api/logs, /api/openapi.json.
import { redactJson } from '../../log/redact.js'
import type { FastifyInstance } from 'fastify'
import { tailLines, linesBefore } from '../log-files.js'
import { oplogEntry, recordEntry } from '../oplog-view.js'
import { CommandResults } from '../command-results.js'
import { packageVersion } from '../../paths.js'
import type { RouteDeps } from './deps.js'

const MAX_LINES = 10_000

export function registerReadRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { agent } = deps
  // The final result of each operator command, for GET /api/oplog (and the live oplog stream).
  const results = new CommandResults(agent)
  results.start()
  app.addHook('onClose', async () => results.stop())

  app.get(
    '/api/status',
    {
      schema: { summary: 'Cluster status: nodes, groups, resources per node (the JSON of `mccs status --json`)' },
    },
    async () => agent.statusAnywhere(),
  )

  app.get(
    '/api/config',
    {
      schema: {
        summary:
          'The configuration in force: main.json text and its generation, and hb.json (read-only here; fence device secrets redacted)',
      },
    },
    async () => {
      const { main, hb } = agent.store.current()
      return { generation: main.generation, text: JSON.stringify(main, null, 2) + '\n', hb: redactJson(hb) }
    },
  )

  app.get<{ Querystring: { limit?: number } }>(
    '/api/oplog',
    {
      schema: {
        summary: 'The manual operation log, newest last',
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { limit: { type: 'integer', minimum: 1, maximum: MAX_LINES, default: 200 } },
        },
      },
    },
    async (req) => {
      // One entry per record: a command's "accepted" and its final "done"/"failed" (command-results.ts) are two.
      const lines = await tailLines(deps.settings.oplogFile, req.query.limit ?? 200)
      return lines.map(oplogEntry).filter((e) => e !== null)
    },
  )

  app.get<{ Querystring: { limit?: number } }>(
    '/api/oplog/all',
    {
      schema: {
        summary:
          "Every node's manual operation log (issue 18, What 6): each reachable node's newest `limit` records, merged by time; the nodes that did not answer are named",
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { limit: { type: 'integer', minimum: 1, maximum: MAX_LINES, default: 200 } },
        },
      },
    },
    async (req) => {
      const g = await agent.oplogs(req.query.limit ?? 200)
      return { entries: g.records.map(recordEntry).filter((e) => e !== null), nodes: g.nodes, missing: g.missing }
    },
  )

  app.get<{ Querystring: { lines?: number; before?: number } }>(
    '/api/logs',
    {
      schema: {
        summary: "This node's agent log (JSON lines), newest last; paged: `from` of one answer is `before` of the older page",
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            lines: { type: 'integer', minimum: 1, maximum: MAX_LINES, default: 200 },
            before: {
              type: 'integer',
              minimum: 0,
              description: 'byte offset: the lines that end before it (the `from` of a newer page); default the end of the log',
            },
          },
        },
      },
    },
    async (req) => {
      agent.log.flush()
      // {lines, from, to, size}: the byte range the lines cover and the log's size, so a reader pages back to 0.
      return linesBefore(deps.settings.logFile, req.query.lines ?? 200, req.query.before)
    },
  )

  app.get(
    '/api/openapi.json',
    {
      config: { auth: 'public' },
      schema: { summary: 'This document' },
    },
    async () => deps.openapi.document({ version: packageVersion() }),
  )
}
