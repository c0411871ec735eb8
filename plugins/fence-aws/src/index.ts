// fence-aws: fences a lost node by stopping its EC2 instance.
//   fence(target)   StopInstances Force on instances[target], then DescribeInstances every pollMs until the
//                   instance is stopped; ok only once EC2 says stopped, failed at the deadline.
//   status(target)  DescribeInstances: stopped -> notRunning (off); anything else -> failed (not confirmed off).
import {
  defineFencePlugin,
  ok,
  notRunning,
  failed,
  invalid,
  diag,
  unknown,
  cannotKnow,
  ec2ErrorCode,
  errorText,
  nameTag,
  checkPermissions,
  profileChoices,
  type HookContext,
  type HookAnswer,
  type Diagnostic,
} from '@mccs/sdk'

interface Attrs {
  instances: Record<string, string>
  pollMs?: number
  profile?: string
  region?: string
  [k: string]: unknown
}
interface Instance {
  InstanceId?: string
  State?: { Name?: string }
  Tags?: Array<{ Key?: string; Value?: string }>
}

const NODE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$/
const INSTANCE = /^i-[0-9a-zA-Z]+$/

function instanceOf(ctx: HookContext<Attrs>, target: unknown): string | HookAnswer {
  if (typeof target !== 'string' || !NODE.test(target))
    return failed(`fence target ${JSON.stringify(target)} is not a node name`, { recoverable: false })
  const id = ctx.attrs.instances?.[target]
  if (typeof id !== 'string' || !INSTANCE.test(id))
    return failed(`no instance id is configured for ${target} (attribute instances.${target})`, { recoverable: false })
  return id
}

async function stateOf(ctx: HookContext<Attrs>, id: string): Promise<string | undefined> {
  const r = await ctx.aws.ec2.call('DescribeInstances', { InstanceIds: [id] })
  const inst = ((r.Reservations ?? []) as Array<{ Instances?: Instance[] }>)
    .flatMap((x) => x.Instances ?? [])
    .find((i) => i.InstanceId === id)
  return inst?.State?.Name
}

export default defineFencePlugin<Attrs>({
  async validate(ctx, { perNode }) {
    const diags: Diagnostic[] = []
    const any = Object.values(perNode)[0]
    if (!any) return ok()
    const inst = any.instances
    if (typeof inst !== 'object' || inst === null || Array.isArray(inst))
      return invalid([diag('/instances', 'must map node names to instance ids')])
    const seen = new Map<string, string>()
    for (const [node, id] of Object.entries(inst)) {
      if (!NODE.test(node)) diags.push(diag(`/instances/${node}`, 'is not a node name'))
      else if (typeof id !== 'string' || !INSTANCE.test(id))
        diags.push(diag(`/instances/${node}`, 'must be an instance id like i-0123abcd'))
      else if (seen.has(id)) diags.push(diag(`/instances/${node}`, `instance ${id} is also set for node ${seen.get(id)}`))
      else seen.set(id, node)
    }
    for (const n of ctx.nodes)
      if (!(n in inst)) diags.push(diag(`/instances/${n}`, `node ${n} has no instance id: it could not be fenced`, undefined, 'warning'))
    if (diags.some((d) => d.severity === 'error')) return invalid(diags)
    try {
      for (const [id, node] of seen) {
        try {
          if (!(await stateOf(ctx, id))) diags.push(diag(`/instances/${node}`, `instance ${id} does not exist`))
        } catch (e) {
          if (ec2ErrorCode(e)?.endsWith('NotFound'))
            diags.push(diag(`/instances/${node}`, `instance ${id} does not exist (${ec2ErrorCode(e)})`))
          else throw e
        }
      }
      const first = [...seen.keys()][0]
      if (first) {
        const s = await ctx.aws.ec2.settings()
        const results = await checkPermissions(ctx.aws.ec2, [
          { action: 'StopInstances', params: { InstanceIds: [first], Force: true } },
          { action: 'DescribeInstances', params: { InstanceIds: [first] } },
        ])
        for (const r of results.filter((x) => !x.allowed))
          diags.push(diag(`/nodes/${ctx.node}/profile`, `profile ${s.profile} may not call ec2:${r.action} (${r.code})`, r.message))
      }
    } catch (e) {
      diags.push(diag(`/nodes/${ctx.node}/profile`, `cannot check against EC2 from ${ctx.node}: ${errorText(e)}`))
    }
    return diags.some((d) => d.severity === 'error') ? invalid(diags) : ok(undefined, diags.length ? { diagnostics: diags } : {})
  },

  async discover(ctx, field) {
    try {
      if (field === 'instances') {
        const r = await ctx.aws.ec2.call('DescribeInstances', {})
        const all = ((r.Reservations ?? []) as Array<{ Instances?: Instance[] }>).flatMap((x) => x.Instances ?? [])
        return ok(undefined, {
          choices: all
            .filter((i) => i.InstanceId)
            .map((i) => ({ value: i.InstanceId!, label: `${nameTag(i) ?? '(no name)'} — ${i.State?.Name ?? '?'}` })),
        })
      }
      if (field === 'profile') return ok(undefined, { choices: await profileChoices(ctx.aws.ec2) })
      return failed(`nothing to discover for '${field}'`, { recoverable: false })
    } catch (e) {
      return cannotKnow(e) ? unknown(errorText(e)) : failed(errorText(e))
    }
  },

  async fence(ctx, target) {
    const id = instanceOf(ctx, target)
    if (typeof id !== 'string') return id
    const poll = Math.min(10_000, Math.max(100, ctx.attrs.pollMs ?? 500))
    const started = ctx.now()
    try {
      ctx.log.warn(`fencing ${target}: StopInstances Force ${id}`)
      await ctx.aws.ec2.call('StopInstances', { InstanceIds: [id], Force: true })
      for (;;) {
        let st: string | undefined
        try {
          st = await stateOf(ctx, id)
        } catch (e) {
          if (!cannotKnow(e)) throw e
        }
        if (st === 'stopped' || st === 'terminated') {
          return ok(`${target} (${id}) ${st} in ${ctx.now() - started} ms`, {
            data: { target, instanceId: id, state: st, ms: ctx.now() - started },
          })
        }
        // Leave time to answer: a fence that runs into its deadline is a failure the engine cannot read.
        if (ctx.now() + poll > ctx.deadline - 500)
          return failed(`${target} (${id}) not stopped before the deadline (last state ${st ?? 'unknown'})`)
        await ctx.sleep(poll)
      }
    } catch (e) {
      const code = ec2ErrorCode(e)
      return failed(`StopInstances ${id}: ${errorText(e)}`, {
        recoverable: !(code === 'UnauthorizedOperation' || code?.endsWith('NotFound')),
      })
    }
  },

  async status(ctx, target) {
    const id = instanceOf(ctx, target)
    if (typeof id !== 'string') return id
    try {
      const st = await stateOf(ctx, id)
      if (st === 'stopped' || st === 'terminated') return notRunning(`${target} (${id}) is ${st}`, { data: { target, off: true } })
      return failed(`${target} (${id}) is ${st ?? 'not found'}: not confirmed off`, { data: { target, off: false } })
    } catch (e) {
      return cannotKnow(e) ? unknown(`cannot ask EC2 now: ${errorText(e)}`) : failed(errorText(e))
    }
  },
})
