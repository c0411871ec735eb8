// fence-script: fences a node with an operator script in the install's script/ folder.
//   <script> fence <node> [args...]    0 = the node is fenced (runs nothing); anything else = failed
//   <script> status <node> [args...]   0 = the node is off;                   anything else = failed
// Answers: fence -> ok | failed; status -> notRunning (the target is off) | failed (not confirmed off).
// A signal or a timeout is a failure too: a fence is done only when the script says so.
// Environment: MCCS_FENCE_ACTION, MCCS_FENCE_TARGET, MCCS_FENCE_PLUG (the target's entry of `plugs`),
// MCCS_FENCE_DEVICE (the fence device's name), MCCS_NODE (the node running the script), MCCS_PARAM_<name>.
import { defineFencePlugin, ok, notRunning, failed, invalid, diag, type HookContext, type HookAnswer, type Diagnostic } from '@mccs/sdk'

interface Attrs {
  script: string
  args?: string[]
  plugs?: Record<string, string>
  params?: Record<string, string>
  [k: string]: unknown
}

const SAFE = /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/
const NODE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/
const PARAM = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/
const MISSING = 127

const safeScript = (v: unknown): v is string => typeof v === 'string' && SAFE.test(v) && !v.split('/').includes('..')

async function run(ctx: HookContext<Attrs>, action: 'fence' | 'status', target: string) {
  const env: Record<string, string> = {
    MCCS_FENCE_ACTION: action,
    MCCS_FENCE_TARGET: target,
    MCCS_FENCE_DEVICE: ctx.resource,
    MCCS_NODE: ctx.node,
  }
  const plug = ctx.attrs.plugs?.[target]
  if (typeof plug === 'string') env.MCCS_FENCE_PLUG = plug
  for (const [k, v] of Object.entries(ctx.attrs.params ?? {})) if (PARAM.test(k) && typeof v === 'string') env[`MCCS_PARAM_${k}`] = v
  const r = await ctx.exec.run({
    file: `${ctx.paths.scripts}/${ctx.attrs.script}`,
    args: [action, target, ...(ctx.attrs.args ?? [])],
    env,
    timeoutMs: Math.max(1, ctx.deadline - Date.now() - 50),
  })
  for (const [stream, text] of [
    ['stdout', r.stdout],
    ['stderr', r.stderr],
  ] as const) {
    for (const line of text.split('\n').filter(Boolean).slice(0, 200))
      ctx.log.info(`${ctx.attrs.script} ${action} ${target}: ${line}`, { stream })
  }
  return r
}

function describe(r: { code: number | null; signal: string | null; timedOut: boolean; stderr: string }): string {
  if (r.timedOut) return 'timed out'
  if (r.code === MISSING && r.stderr.startsWith('cannot run')) return r.stderr.trim()
  return r.signal ? `killed by ${r.signal}` : `exit code ${r.code}`
}

/** A target the script can be given safely: a node name (never an option like `-rf`). */
function badTarget(ctx: HookContext<Attrs>, target: unknown): HookAnswer | null {
  if (typeof target !== 'string' || !NODE.test(target))
    return failed(`fence target ${JSON.stringify(target)} is not a node name`, { recoverable: false })
  if (!safeScript(ctx.attrs.script))
    return failed(`script ${JSON.stringify(ctx.attrs.script)} is not a file inside the script/ folder`, { recoverable: false })
  return null
}

export default defineFencePlugin<Attrs>({
  validate(_ctx, input) {
    const diags: Diagnostic[] = []
    for (const [node, a] of Object.entries(input.perNode)) {
      const at = (f: string) => `/nodes/${node}/${f}`
      if (!safeScript(a.script))
        diags.push(diag(at('script'), 'must name a file inside the script/ folder', 'letters, digits, _ . - and / only; no ..'))
      if (a.args !== undefined && (!Array.isArray(a.args) || a.args.some((x) => typeof x !== 'string' || x.includes('\0')))) {
        diags.push(diag(at('args'), 'must be a list of strings'))
      }
      if (a.plugs !== undefined) {
        if (typeof a.plugs !== 'object' || a.plugs === null || Array.isArray(a.plugs))
          diags.push(diag(at('plugs'), 'must map node names to strings'))
        else {
          for (const [n, v] of Object.entries(a.plugs)) {
            if (!NODE.test(n)) diags.push(diag(at(`plugs/${n}`), 'is not a node name'))
            else if (typeof v !== 'string' || v.includes('\0')) diags.push(diag(at(`plugs/${n}`), 'must be a string'))
          }
        }
      }
      if (a.params !== undefined) {
        if (typeof a.params !== 'object' || a.params === null || Array.isArray(a.params))
          diags.push(diag(at('params'), 'must map names to strings'))
        else {
          for (const [k, v] of Object.entries(a.params)) {
            if (!PARAM.test(k))
              diags.push(diag(at(`params/${k}`), 'is not a valid variable name', 'letters, digits and _; not starting with a digit'))
            else if (typeof v !== 'string' || v.includes('\0')) diags.push(diag(at(`params/${k}`), 'must be a string'))
          }
        }
      }
    }
    return diags.length ? invalid(diags) : ok()
  },

  async fence(ctx, target) {
    const refused = badTarget(ctx, target)
    if (refused) return refused
    ctx.log.warn(`fencing ${target} with ${ctx.attrs.script}`)
    const r = await run(ctx, 'fence', target)
    if (r.code === 0) return ok(`${target} fenced`, { data: { target, durationMs: r.durationMs } })
    return failed(`${ctx.attrs.script} fence ${target}: ${describe(r)}`, {
      recoverable: r.code !== MISSING,
      data: { target, code: r.code, timedOut: r.timedOut },
    })
  },

  async status(ctx, target) {
    const refused = badTarget(ctx, target)
    if (refused) return refused
    const r = await run(ctx, 'status', target)
    if (r.code === 0) return notRunning(`${target} is off`, { data: { target, off: true } })
    return failed(`${ctx.attrs.script} status ${target}: not confirmed off (${describe(r)})`, {
      recoverable: r.code !== MISSING,
      data: { target, off: false, code: r.code },
    })
  },
})
