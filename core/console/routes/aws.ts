// AWS settings per node (issue 18, What 3; the manual's "Add AWS CLI Profile", 3.2.3):
//   GET  /api/aws                              every node's region, endpoint, profile or instance role, and
//                                              the profiles of its agent user's AWS files (keys: 'set', never a value)
//   PUT  /api/aws/nodes/:node/settings         {region?, endpoint?, profile?} -> config/aws.json (0600, atomic)
//   POST /api/aws/nodes/:node/profiles         {name, accessKeyId, secretAccessKey, sessionToken?, region?}
//   POST /api/aws/nodes/:node/check            {settings?} -> that node's DryRun against EC2, within a few seconds
// Another node is reached over the peer channel (Agent.awsOn); each input is checked here first and again
// on the node that writes it (core/agent/aws-node.ts), and a refusal names the field and writes nothing.
import type { FastifyInstance } from 'fastify'
import { MccsError } from '../../errors.js'
import { checkOverride, checkProfileInput, checkSettingsInput, type AwsCheckResult, type AwsNodeView } from '../../agent/aws-node.js'
import type { RouteDeps } from './deps.js'
import { userOf } from './deps.js'

const nodeParam = {
  type: 'object',
  required: ['node'],
  properties: { node: { type: 'string', pattern: '^[A-Za-z][A-Za-z0-9_.-]{0,63}$' } },
} as const
// Types and sizes here (an oversized value is refused before it is read); the values' form is checked by
// checkSettingsInput / checkProfileInput, whose reasons say what a region or a key looks like.
const settingsBody = {
  type: 'object',
  additionalProperties: false,
  properties: {
    region: { type: 'string', maxLength: 32, description: 'e.g. eu-west-1; empty: none (each resource names its region)' },
    endpoint: { type: 'string', maxLength: 512, description: 'an http(s) EC2 endpoint; empty: the public endpoint of the region' },
    profile: { type: 'string', maxLength: 64, description: "a profile of the agent user's AWS files; empty: the instance role" },
  },
} as const
const profileBody = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'accessKeyId', 'secretAccessKey'],
  properties: {
    name: { type: 'string', minLength: 1, maxLength: 64 },
    accessKeyId: { type: 'string', minLength: 1, maxLength: 128 },
    secretAccessKey: { type: 'string', minLength: 1, maxLength: 256, description: 'written to the credentials file, never returned' },
    sessionToken: { type: 'string', maxLength: 4096 },
    region: { type: 'string', maxLength: 32 },
  },
} as const

export function registerAwsRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { agent } = deps
  const nodes = () => agent.store.current().hb.nodes.map((n) => n.name)
  const known = (node: string) => {
    if (!nodes().includes(node))
      throw new MccsError('MCCS_ERR_NOT_FOUND', `'${node}' is not a node of this cluster (${nodes().join(', ')})`, {
        field: '/params/node',
        subject: node,
      })
  }

  app.get(
    '/api/aws',
    { schema: { summary: "Every node's AWS settings and profiles (keys are reported as 'set', never returned)" } },
    async () => ({
      nodes: await Promise.all(
        nodes().map(async (node) => {
          try {
            return await viewOf(agent.awsOn(node, { t: 'awsView' }), node)
          } catch (e) {
            const err = e as MccsError
            return { node, error: { code: err.code ?? 'MCCS_ERR_INTERNAL', message: err.message } }
          }
        }),
      ),
    }),
  )

  app.put<{ Params: { node: string }; Body: Record<string, unknown> }>(
    '/api/aws/nodes/:node/settings',
    {
      schema: {
        summary: "Set a node's AWS region, endpoint and profile (config/aws.json; no profile = the instance role)",
        params: nodeParam,
        body: settingsBody,
      },
    },
    async (req) => {
      known(req.params.node)
      const settings = checkSettingsInput(req.body)
      return viewOf(agent.awsOn(req.params.node, { t: 'awsSet', settings, user: userOf(req) }), req.params.node)
    },
  )

  app.post<{ Params: { node: string }; Body: Record<string, unknown> }>(
    '/api/aws/nodes/:node/profiles',
    {
      schema: {
        summary: "Add or replace an AWS CLI profile in the node's agent user's AWS files (mode 0600); the keys are never returned",
        params: nodeParam,
        body: profileBody,
      },
    },
    async (req) => {
      known(req.params.node)
      const { name, keys } = checkProfileInput(req.body)
      return viewOf(agent.awsOn(req.params.node, { t: 'awsProfile', name, keys, user: userOf(req) }), req.params.node)
    },
  )

  app.post<{ Params: { node: string }; Body: { settings?: Record<string, unknown>; profile?: string; region?: string } }>(
    '/api/aws/nodes/:node/check',
    {
      schema: {
        summary: 'Check AWS settings on a node against EC2 (a DryRun of DescribeNetworkInterfaces, a few seconds at most)',
        description:
          "settings: region, endpoint and profile to check (absent: the node's saved ones); profile, region: a resource's own attributes over them (the wizard's per-node profile)",
        params: nodeParam,
        body: {
          type: 'object',
          additionalProperties: false,
          properties: { settings: settingsBody, profile: settingsBody.properties.profile, region: settingsBody.properties.region },
        },
      },
    },
    async (req) => {
      known(req.params.node)
      const b = req.body ?? {}
      const settings = b.settings === undefined ? undefined : checkSettingsInput(b.settings)
      const over = checkOverride({
        ...(b.profile !== undefined ? { profile: b.profile } : {}),
        ...(b.region !== undefined ? { region: b.region } : {}),
      })
      const r = (await agent.awsOn(req.params.node, {
        t: 'awsCheck',
        ...(settings ? { settings } : {}),
        ...(Object.keys(over).length ? { over } : {}),
      })) as AwsCheckResult
      if (!r || typeof r !== 'object' || r.node !== req.params.node || typeof r.ok !== 'boolean')
        throw new MccsError('MCCS_ERR_PEER_PROTOCOL', `${req.params.node}'s AWS check answer is not a check result`, {
          subject: req.params.node,
        })
      return r
    },
  )
}

/** Another node's answer, checked before the console shows it; never a key (the view has none). */
async function viewOf(p: Promise<unknown>, node: string): Promise<AwsNodeView> {
  const v = (await p) as AwsNodeView
  if (!v || typeof v !== 'object' || v.node !== node || !Array.isArray(v.profiles) || typeof v.settings !== 'object')
    throw new MccsError('MCCS_ERR_PEER_PROTOCOL', `${node}'s AWS settings answer is not a settings view`, { subject: node })
  return {
    node: v.node,
    settings: v.settings,
    identity: v.identity,
    profiles: v.profiles.map((p) => ({
      name: String(p.name),
      ...(p.region ? { region: String(p.region) } : {}),
      credentials: p.credentials === 'set' ? 'set' : 'none',
    })),
    files: v.files,
    ...(v.problem ? { problem: String(v.problem) } : {}),
  }
}
