// script: operator scripts under the install's script/ folder, with OCF exit codes:
// 0 = success (monitor: running), 7 = not running, anything else = failed.
// The script gets the action as $1 (like OCF agents) and OCF_RESKEY_<param> for each parameter.
import { definePlugin, ok, notRunning, failed, invalid, diag, type HookContext, type HookAnswer } from '@mccs/sdk'

interface Attrs {
  onlineScript: string
  offlineScript: string
  monitorScript?: string
  args?: string[]
  params?: Record<string, string>
  [k: string]: unknown
}
const OCF_NOT_RUNNING = 7
const SAFE = /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/

async function run(ctx: HookContext<Attrs>, script: string, action: string) {
  const env: Record<string, string> = {
    MCCS_RESOURCE: ctx.resource,
    MCCS_NODE: ctx.node,
    MCCS_ACTION: action,
    OCF_RESOURCE_INSTANCE: ctx.resource,
    OCF_RESOURCE_TYPE: 'script',
  }
  for (const [k, v] of Object.entries(ctx.attrs.params ?? {})) env[`OCF_RESKEY_${k}`] = v
  const r = await ctx.exec.run({
    file: `${ctx.paths.scripts}/${script}`,
    args: [action, ...(ctx.attrs.args ?? [])],
    env,
    timeoutMs: Math.max(1, ctx.deadline - Date.now() - 50),
  })
  for (const [stream, text] of [
    ['stdout', r.stdout],
    ['stderr', r.stderr],
  ] as const) {
    for (const line of text.split('\n').filter(Boolean).slice(0, 200)) ctx.log.info(`${script} ${action}: ${line}`, { stream })
  }
  return r
}

function describe(r: { code: number | null; signal: string | null; timedOut: boolean; stderr: string }): string {
  if (r.timedOut) return 'timed out'
  if (r.code === 127 && r.stderr.startsWith('cannot run')) return r.stderr
  return r.signal ? `killed by ${r.signal}` : `exit code ${r.code}`
}

export default definePlugin<Attrs>({
  validate(_ctx, input) {
    const diags = []
    for (const [node, a] of Object.entries(input.perNode)) {
      for (const f of ['onlineScript', 'offlineScript', 'monitorScript'] as const) {
        const v = a[f]
        if (v === undefined && f === 'monitorScript') continue
        if (typeof v !== 'string' || !SAFE.test(v) || v.split('/').includes('..')) {
          diags.push(diag(`/nodes/${node}/${f}`, 'must name a file inside the script/ folder', 'letters, digits, _ . - and / only; no ..'))
        }
      }
    }
    return diags.length ? invalid(diags) : ok()
  },
  async online(ctx) {
    const r = await run(ctx, ctx.attrs.onlineScript, 'start')
    if (r.code === 0) {
      await ctx.state.set('started', true)
      return ok()
    }
    return failed(`${ctx.attrs.onlineScript}: ${describe(r)}`, { recoverable: r.code !== 127 })
  },
  async offline(ctx) {
    const r = await run(ctx, ctx.attrs.offlineScript, 'stop')
    if (r.code === 0 || r.code === OCF_NOT_RUNNING) {
      await ctx.state.set('started', false)
      return ok()
    }
    return failed(`${ctx.attrs.offlineScript}: ${describe(r)}`)
  },
  async monitor(ctx): Promise<HookAnswer> {
    // Without a monitor script the last successful online/offline is the best knowledge we have.
    if (!ctx.attrs.monitorScript)
      return (await ctx.state.get('started')) ? ok('no monitor script: started by MCCS') : notRunning('not started by MCCS')
    const r = await run(ctx, ctx.attrs.monitorScript, 'monitor')
    if (r.code === 0) return ok()
    if (r.code === OCF_NOT_RUNNING) return notRunning(`${ctx.attrs.monitorScript}: not running (exit 7)`)
    return failed(`${ctx.attrs.monitorScript}: ${describe(r)}`)
  },
})
