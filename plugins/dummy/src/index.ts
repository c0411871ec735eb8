// dummy: a resource that lives only in its state store, and misbehaves on request.
// Modes per hook: ok | fail | hang (waits past any deadline) | slow (delayMs, then ok) |
// flap (monitor alternates online/offline) | spin (busy loop) | busy (delayMs of CPU, then ok) | leak (allocates until the isolate's
// memory limit) | throw | garbage (returns a value that breaks the hook contract).
// The state key 'control' ({ monitor: 'fail', ... }) overrides the attributes at run time. discover
// fills the wizard's 'note' list with the node it ran on.
import { definePlugin, ok, notRunning, failed, invalid, diag, type HookContext } from '@mccs/sdk'

type Mode = 'ok' | 'fail' | 'hang' | 'slow' | 'flap' | 'spin' | 'busy' | 'leak' | 'throw' | 'garbage'
type Hook = 'online' | 'offline' | 'monitor' | 'clean'
interface Attrs {
  online?: Mode
  offline?: Mode
  monitor?: Mode
  clean?: Mode
  delayMs?: number
  note?: string
  [k: string]: unknown
}
const MODES = ['ok', 'fail', 'hang', 'slow', 'flap', 'spin', 'busy', 'leak', 'throw', 'garbage']

async function mode(ctx: HookContext<Attrs>, hook: Hook): Promise<Mode> {
  const control = (await ctx.state.get<Partial<Record<Hook, Mode>>>('control')) ?? {}
  return control[hook] ?? ctx.attrs[hook] ?? 'ok'
}

/** Applies a misbehaviour; returns a final answer, or null to carry on normally. */
async function misbehave(ctx: HookContext<Attrs>, m: Mode): Promise<ReturnType<typeof ok> | null> {
  switch (m) {
    case 'fail':
      return failed(`dummy told to fail ${ctx.hook}`)
    case 'hang':
      await new Promise(() => {})
      return null
    case 'slow':
      await ctx.sleep(ctx.attrs.delayMs ?? 1000)
      return null
    case 'spin':
      for (;;) {
        /* burn CPU until the host cuts us */
      }
    case 'busy': {
      const end = Date.now() + (ctx.attrs.delayMs ?? 1000)
      while (Date.now() < end) {
        /* CPU-bound work that ends */
      }
      return null
    }
    case 'leak': {
      const hoard: unknown[] = []
      for (;;) hoard.push(new Array(1e5).fill(hoard.length))
    }
    case 'throw':
      throw new Error(`dummy told to throw in ${ctx.hook}`)
    case 'garbage':
      return { answer: 'maybe' } as unknown as ReturnType<typeof ok>
    default:
      return null
  }
}

export default definePlugin<Attrs>({
  validate(_ctx, input) {
    const diags = []
    for (const [node, a] of Object.entries(input.perNode)) {
      for (const h of ['online', 'offline', 'monitor', 'clean'] as const) {
        if (a[h] !== undefined && !MODES.includes(a[h] as string)) diags.push(diag(`/nodes/${node}/${h}`, `unknown mode '${String(a[h])}'`))
      }
    }
    return diags.length ? invalid(diags) : ok()
  },
  // The wizard's 'note' list: the node this hook ran on (the console's per-node columns ask each node).
  async discover(ctx, field) {
    if (field !== 'node') return ok(undefined, { choices: [] })
    return ok(`ran on ${ctx.node}`, { choices: [{ value: `on ${ctx.node}`, label: `discovered on ${ctx.node}` }] })
  },
  async online(ctx) {
    const r = await misbehave(ctx, await mode(ctx, 'online'))
    if (r) return r
    await ctx.state.set('running', true)
    return ok('started')
  },
  async offline(ctx) {
    const r = await misbehave(ctx, await mode(ctx, 'offline'))
    if (r) return r
    await ctx.state.set('running', false)
    return ok('stopped')
  },
  async clean(ctx) {
    const r = await misbehave(ctx, await mode(ctx, 'clean'))
    if (r) return r
    await ctx.state.set('running', false)
    return ok('cleaned')
  },
  async monitor(ctx) {
    const m = await mode(ctx, 'monitor')
    if (m === 'flap') {
      const n = ((await ctx.state.get<number>('flaps')) ?? 0) + 1
      await ctx.state.set('flaps', n)
      return n % 2 ? notRunning('flapping (down)') : ok('flapping (up)')
    }
    const r = await misbehave(ctx, m)
    if (r) return r
    return (await ctx.state.get('running')) ? ok() : notRunning('not started')
  },
})
