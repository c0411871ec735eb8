// ocf: an unmodified OCF resource agent (/usr/lib/ocf/resource.d/<provider>/<name>) run as Pacemaker runs
// it — one short-lived call per action, parameters as OCF_RESKEY_<name>, OCF_RESOURCE_INSTANCE the
// resource's name, the op timeout as OCF_RESKEY_CRM_meta_timeout — through the exec capability (not proc:
// an agent action is a command with a deadline, not a service; the agent starts its own daemons).
// online = meta-data check of the params, validate-all, start; offline = stop; monitor = monitor (a probe,
// interval 0, where MCCS did not start it); clean = stop again, then a probe. Exit codes: exit-codes.ts.
import {
  definePlugin,
  ok,
  notRunning,
  failed,
  invalid,
  diag,
  type HookContext,
  type HookAnswer,
  type Diagnostic,
  type ExecResult,
} from '@mccs/sdk'
import { parseMetaData, paramsSchema, checkParams, paramValue, advisedTimeoutS, type OcfMeta } from './meta-data.js'
import { parseAgent, SEGMENT, AGENT_DIR, type Agent } from './agent.js'
import { OCF, describeRun, monitorAnswer, startAnswer, stopAnswer, classify } from './exit-codes.js'

interface Attrs {
  agent: string
  params?: Record<string, unknown>
  [k: string]: unknown
}

const LS = '/usr/bin/ls'
/** Leaves the agent time to answer for itself before the hook's own deadline cuts it. */
const MARGIN_MS = 300
/** OCF_RESKEY_CRM_meta_interval of a recurring monitor (0 marks a probe; agents only test for 0). */
const RECURRING_INTERVAL_MS = '10000'
const META_TTL_MS = 30_000
const MAX_SCHEMA_JSON = 60 * 1024
const SECRET_NAME = /pass(w(or)?d)?$|password|passwd|secret|token/i

const budget = (ctx: HookContext<Attrs>): number => Math.max(1, ctx.deadline - Date.now() - MARGIN_MS)

/** One agent action. A file the exec capability refuses (not an installed agent) reads as exit 5. */
async function runAgent(
  ctx: HookContext<Attrs>,
  agent: Agent,
  action: string,
  o: { params?: Record<string, unknown>; interval?: string; maxOutputBytes?: number } = {},
): Promise<ExecResult> {
  const timeoutMs = budget(ctx)
  const env: Record<string, string> = {}
  if (action !== 'meta-data') {
    Object.assign(env, { OCF_RESOURCE_INSTANCE: ctx.resource, OCF_RESOURCE_TYPE: agent.name, OCF_RESOURCE_PROVIDER: agent.provider })
    for (const [k, v] of Object.entries(o.params ?? {})) {
      const s = paramValue(v)
      if (s !== undefined) env[`OCF_RESKEY_${k}`] = s
    }
    env.OCF_RESKEY_CRM_meta_timeout = String(Math.floor(timeoutMs))
    if (o.interval !== undefined) env.OCF_RESKEY_CRM_meta_interval = o.interval
  }
  try {
    return await ctx.exec.run({
      file: agent.path,
      args: [action],
      env,
      timeoutMs,
      ...(o.maxOutputBytes ? { maxOutputBytes: o.maxOutputBytes } : {}),
    })
  } catch (e) {
    const err = e as { code?: string; message?: string }
    if (err.code !== 'MCCS_ERR_PERMISSION_DENIED') throw e
    return {
      code: OCF.ERR_INSTALLED,
      signal: null,
      timedOut: false,
      truncated: false,
      stdout: '',
      durationMs: 0,
      stderr: `ocf-exit-reason:ocf:${agent.id} is not installed on ${ctx.node} (no agent at ${agent.path})`,
    }
  }
}

/** The run that never happened because no agent file is there (runAgent's exit 5 of its own). */
const isMissing = (r: ExecResult): boolean => r.code === OCF.ERR_INSTALLED && r.durationMs === 0 && r.stderr.includes('is not installed on')

/** The agent's stderr in the agent log, with the values of secret-looking parameters masked. */
function logOutput(ctx: HookContext<Attrs>, agent: Agent, action: string, r: ExecResult, params: Record<string, unknown>): void {
  const secrets = Object.entries(params)
    .filter(([k]) => SECRET_NAME.test(k))
    .map(([, v]) => paramValue(v))
    .filter((v): v is string => !!v && v.length >= 3)
  const level = r.code === 0 ? 'debug' : 'info'
  for (const line of r.stderr.split('\n').filter(Boolean).slice(-50)) {
    ctx.log[level](`ocf:${agent.id} ${action}: ${secrets.reduce((l, s) => l.split(s).join('***'), line)}`)
  }
}

// Meta-data changes only when the package does: kept a short while per agent (the isolate is shared by
// every ocf resource; a recycled isolate simply reads it again).
const metaCache = new Map<string, { at: number; meta: OcfMeta }>()

/** The agent's meta-data, or why it cannot be had. */
async function metaData(ctx: HookContext<Attrs>, agent: Agent): Promise<OcfMeta | string> {
  const hit = metaCache.get(agent.path)
  if (hit && Date.now() - hit.at < META_TTL_MS) return hit.meta
  const r = await runAgent(ctx, agent, 'meta-data', { maxOutputBytes: 1024 * 1024 })
  if (r.code === OCF.ERR_INSTALLED && r.stderr.includes('is not installed'))
    return `ocf:${agent.id} is not an installed OCF agent on ${ctx.node} (no ${agent.path})`
  if (r.code !== 0 || r.timedOut) return `ocf:${agent.id} meta-data failed on ${ctx.node}: ${describeRun('meta-data', r)}`
  if (r.truncated) return `ocf:${agent.id} meta-data is larger than 1 MiB`
  try {
    const meta = parseMetaData(r.stdout)
    metaCache.set(agent.path, { at: Date.now(), meta })
    return meta
  } catch (e) {
    return `ocf:${agent.id} meta-data is not readable XML: ${(e as Error).message}`
  }
}

const paramsOf = (a: Attrs): Record<string, unknown> =>
  a.params && typeof a.params === 'object' && !Array.isArray(a.params) ? a.params : {}

/** Diagnostics for one node's attributes: the agent installed, its params as its meta-data declares. */
async function check(ctx: HookContext<Attrs>, a: Attrs, at: string): Promise<Diagnostic[]> {
  const agent = parseAgent(a.agent)
  if (typeof agent === 'string') return [diag(`${at}/agent`, agent)]
  const meta = await metaData(ctx, agent)
  if (typeof meta === 'string') return [diag(`${at}/agent`, meta)]
  return checkParams(meta, agent.id, paramsOf(a)).map((p) => diag(`${at}/params/${p.param}`, `'${p.param}' ${p.summary}`, p.detail))
}

/** The agents installed here: every executable in /usr/lib/ocf/resource.d/<provider>/. */
async function installedAgents(ctx: HookContext<Attrs>): Promise<string[]> {
  const ls = async (dir: string) => ctx.exec.run({ file: LS, args: ['-1LF', '--', dir], timeoutMs: Math.min(5000, budget(ctx)) })
  const top = await ls(AGENT_DIR)
  if (top.code !== 0) return []
  const out: string[] = []
  for (const p of top.stdout
    .split('\n')
    .filter((l) => l.endsWith('/'))
    .map((l) => l.slice(0, -1))
    .filter((p) => SEGMENT.test(p))) {
    const r = await ls(`${AGENT_DIR}/${p}`)
    // -F marks executables with '*' (and follows symlinks with -L): helper files without x are not agents.
    for (const l of r.stdout.split('\n')) if (l.endsWith('*') && SEGMENT.test(l.slice(0, -1))) out.push(`${p}:${l.slice(0, -1)}`)
  }
  return out
}

/** The wizard's schema for the agent's parameters, within the answer's data budget (long texts shortened). */
function fitSchema(schema: Record<string, unknown>): Record<string, unknown> {
  for (const max of [Infinity, 600, 200, 0]) {
    const props = Object.fromEntries(
      Object.entries(schema.properties as Record<string, Record<string, unknown>>).map(([k, p]) => {
        const d = typeof p.description === 'string' ? p.description : ''
        return [k, max === Infinity || d.length <= max ? p : { ...p, description: max ? `${d.slice(0, max)} …` : undefined }]
      }),
    )
    const s = { ...schema, properties: props }
    if (JSON.stringify(s).length <= MAX_SCHEMA_JSON) return s
  }
  return { ...schema, properties: {} }
}

/** started here by MCCS (and not stopped since): its monitors are recurring ones, not probes. */
const startedHere = async (ctx: HookContext<Attrs>): Promise<boolean> => (await ctx.state.get<boolean>('started')) === true

export default definePlugin<Attrs>({
  async validate(ctx, { perNode }) {
    const diags: Diagnostic[] = []
    for (const [node, a] of Object.entries(perNode)) diags.push(...(await check(ctx, a, `/nodes/${node}`)))
    return diags.length ? invalid(diags) : ok()
  },

  async discover(ctx, field, partial) {
    if (field === 'agents') {
      const agents = await installedAgents(ctx)
      return agents.length
        ? ok(`${agents.length} agents in ${AGENT_DIR}`, { choices: agents.map((value) => ({ value })) })
        : failed(`no OCF agent is installed on ${ctx.node} (${AGENT_DIR} is empty or missing: install resource-agents)`)
    }
    if (field === 'params') {
      if (partial.agent === undefined || partial.agent === '') return ok('choose an agent first')
      const agent = parseAgent(partial.agent)
      if (typeof agent === 'string') return failed(agent, { recoverable: false })
      const meta = await metaData(ctx, agent)
      if (typeof meta === 'string') return failed(meta, { recoverable: false })
      return ok(`${meta.params.length} parameters of ocf:${agent.id}`, { data: { schema: fitSchema(paramsSchema(meta, agent.id)) } })
    }
    return failed(`the ocf type fills no list named '${field}' (it fills 'agents' and 'params')`, { recoverable: false })
  },

  async online(ctx): Promise<HookAnswer> {
    const agent = parseAgent(ctx.attrs.agent)
    if (typeof agent === 'string') return invalid([diag('/agent', agent)])
    const params = paramsOf(ctx.attrs)
    // Configuration can come from main.json or the CLI without the wizard: the params are checked here too.
    const meta = await metaData(ctx, agent)
    if (typeof meta === 'string') return failed(meta, { recoverable: false })
    const problems = checkParams(meta, agent.id, params)
    if (problems.length) return invalid(problems.map((p) => diag(`/params/${p.param}`, `'${p.param}' ${p.summary}`, p.detail)))
    const advised = advisedTimeoutS(meta, 'start')
    if (advised && budget(ctx) < advised * 1000)
      ctx.log.warn(
        `ocf:${agent.id}: the online timeout leaves ${Math.round(budget(ctx) / 1000)} s, less than the agent's advised start timeout (${advised} s)`,
      )

    const v = await runAgent(ctx, agent, 'validate-all', { params })
    logOutput(ctx, agent, 'validate-all', v, params)
    if (v.code !== OCF.SUCCESS && v.code !== OCF.ERR_UNIMPLEMENTED) {
      const a = startAnswer(v)
      return { ...a, reason: `${describeRun('validate-all', v)} (nothing started)` }
    }
    const r = await runAgent(ctx, agent, 'start', { params })
    logOutput(ctx, agent, 'start', r, params)
    const answer = startAnswer(r, Math.round(budget(ctx) / 1000))
    if (answer.answer === 'ok' || answer.answer === 'degraded') await ctx.state.set('started', true)
    return answer
  },

  async offline(ctx) {
    const agent = parseAgent(ctx.attrs.agent)
    if (typeof agent === 'string') return failed(`cannot stop: agent ${agent}`, { recoverable: false })
    const params = paramsOf(ctx.attrs)
    const r = await runAgent(ctx, agent, 'stop', { params })
    logOutput(ctx, agent, 'stop', r, params)
    // No agent file here and never started here: there is nothing MCCS could have started to stop.
    if (isMissing(r) && !(await startedHere(ctx))) return ok(`ocf:${agent.id} is not installed on ${ctx.node}: nothing to stop`)
    const answer = stopAnswer(r)
    if (answer.answer === 'ok') await ctx.state.set('started', false)
    return answer
  },

  async monitor(ctx) {
    const agent = parseAgent(ctx.attrs.agent)
    if (typeof agent === 'string') return invalid([diag('/agent', agent)])
    const params = paramsOf(ctx.attrs)
    const recurring = await startedHere(ctx)
    const r = await runAgent(ctx, agent, 'monitor', { params, interval: recurring ? RECURRING_INTERVAL_MS : '0' })
    if (r.code !== OCF.SUCCESS && r.code !== OCF.NOT_RUNNING) logOutput(ctx, agent, 'monitor', r, params)
    // A probe where the agent (or what it needs) is not installed: not running here, as Pacemaker reads it;
    // an online would then fail hard, so the group is never placed here by mistake.
    if (!recurring && !r.timedOut && r.code === OCF.ERR_INSTALLED) return notRunning(describeRun('monitor (probe)', r))
    return monitorAnswer(r)
  },

  async clean(ctx) {
    const agent = parseAgent(ctx.attrs.agent)
    if (typeof agent === 'string') return failed(`cannot clean: agent ${agent}`, { recoverable: false })
    const params = paramsOf(ctx.attrs)
    const stop = await runAgent(ctx, agent, 'stop', { params })
    logOutput(ctx, agent, 'stop', stop, params)
    const probe = await runAgent(ctx, agent, 'monitor', { params, interval: '0' })
    if (classify(probe) === 'notRunning' || (isMissing(probe) && !(await startedHere(ctx)))) {
      await ctx.state.set('started', false)
      return ok()
    }
    return failed(`still running after stop: ${describeRun('stop', stop)}; ${describeRun('monitor', probe)}`)
  },
})
