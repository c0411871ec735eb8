// The event timeline in the console (issue 20, What 1): GET /api/timeline?group=&since=&limit= — every
// node's timeline merged (the nodes that do not answer are named) and, for a group, the plain-words
// explanation `mccs explain` prints (core/log/timeline-explain.ts: one code for both front ends).
import type { FastifyInstance } from 'fastify'
import type { TimelineEntry } from '../../log/timeline.js'
import { mergeTimelines, parseSince } from '../../log/timeline-read.js'
import { explainGroup } from '../../log/timeline-explain.js'
import { MccsError } from '../../errors.js'
import type { RouteDeps } from './deps.js'
import { requestLanguage } from '../language.js'

const MAX_LIMIT = 5000

export interface TimelineReply {
  /** The group asked about, or null: the whole cluster. */
  group: string | null
  since: string | null
  /** Nodes whose timeline is not in the answer, and why (lost, powered off, not answering). */
  missing: Array<{ node: string; reason: string }>
  /** Entries in the story; `entries` holds the newest `limit` of them. */
  total: number
  /** Oldest first; `rule`: the placement rule of an entry that placed the group. */
  entries: Array<TimelineEntry & { rule?: string }>
  /** Per group (one for a group, every configured group for the cluster): the answers in plain words. */
  explanation: Array<{ group: string; summary: string[] }>
}

export function registerTimelineRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { agent } = deps
  app.get<{ Querystring: { group?: string; since?: string; limit?: number } }>(
    '/api/timeline',
    {
      schema: {
        summary:
          "The event timeline merged from every node that answers, and why a group is where it is, why it moved, why it won't start (what `mccs explain` says)",
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            group: {
              type: 'string',
              pattern: '^[A-Za-z][A-Za-z0-9_.-]{0,63}$',
              description: "a configured group: its entries, its resources', and what happened to nodes; none: the whole cluster",
            },
            since: {
              type: 'string',
              minLength: 1,
              maxLength: 40,
              description: 'an age (90s, 15m, 2h, 1d) or an ISO time; none: everything kept',
            },
            limit: { type: 'integer', minimum: 1, maximum: MAX_LIMIT, default: 500, description: 'the newest entries returned at most' },
          },
        },
      },
    },
    async (req): Promise<TimelineReply> => {
      const q = req.query
      const since = q.since === undefined ? null : parseSince(q.since, deps.now())
      if (q.since !== undefined && !since)
        throw new MccsError('MCCS_ERR_INVALID', `'${q.since}' is neither an age (30m, 2h, 1d) nor an ISO time`, { field: '/query/since' })
      const main = agent.store.current().main
      const cfg = q.group === undefined ? null : main.groups.find((g) => g.name === q.group)
      if (q.group !== undefined && !cfg)
        throw new MccsError('MCCS_ERR_NOT_FOUND', `no group named '${q.group}' in the configuration`, { field: '/query/group' })
      const got = await agent.timelines(since)
      const all = mergeTimelines(got.lists).filter((e) => !since || e.wall >= since)
      const resourcesOf = (g: string) => main.resources.filter((r) => r.group === g).map((r) => r.name)
      // A group: its story; the cluster: every entry, with every group's placement rules.
      let story: TimelineEntry[] = all
      const rules = new Map<TimelineEntry, string>()
      const explanation: TimelineReply['explanation'] = []
      for (const g of cfg ? [cfg] : main.groups) {
        // The summary and the rules in the reader's language (the entries carry their own words: `said`).
        const x = explainGroup(g, resourcesOf(g.name), all, since, requestLanguage(deps.accounts, deps.productLang, req))
        explanation.push({ group: g.name, summary: x.summary })
        for (const [e, r] of x.rules) rules.set(e, r)
        if (cfg) story = x.story
      }
      const limit = q.limit ?? 500
      return {
        group: cfg?.name ?? null,
        since,
        missing: got.missing,
        total: story.length,
        entries: story.slice(-limit).map((e) => (rules.has(e) ? { ...e, rule: rules.get(e)! } : e)),
        explanation,
      }
    },
  )
}
