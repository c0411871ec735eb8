// hello-file: an example MCCS resource type, written as a third party would write one.
//
// The "resource" is a marker file. online creates it, offline removes it, monitor checks it exists.
// The plugin runs sandboxed: it has no fs, no child_process, no require. It reaches the world only
// through `ctx.exec`, and only for the three binaries its plugin.json declares:
//   exec:/usr/bin/touch   exec:/usr/bin/rm   exec:/usr/bin/test
import { definePlugin, ok, notRunning, failed, unknown, invalid, diag, type HookContext, type Diagnostic, type ExecResult } from '@mccs/sdk'

interface Attrs {
  /** Per node (x-mccs scope "node"): the directory holding the marker. */
  dir: string
  fileName?: string
  commandTimeoutMs?: number
  [k: string]: unknown
}

const TOUCH = '/usr/bin/touch'
const RM = '/usr/bin/rm'
const TEST = '/usr/bin/test'
const SAFE_NAME = /^[A-Za-z0-9_.-]+$/

function markerPath(a: Attrs): string {
  const dir = a.dir.length > 1 ? a.dir.replace(/\/+$/, '') : a.dir
  return `${dir}/${a.fileName ?? 'hello.marker'}`
}

/** Runs one allow-listed binary. Arguments are an array: no shell ever sees them. */
function run(ctx: HookContext<Attrs>, file: string, args: string[]): Promise<ExecResult> {
  // Never wait past the hook's own deadline (the host would abandon the call anyway).
  const left = ctx.deadline - Date.now() - 100
  return ctx.exec.run({ file, args, timeoutMs: Math.max(50, Math.min(ctx.attrs.commandTimeoutMs ?? 5000, left)) })
}

/** `cannot run ...` (exit 127 from the host) means the binary is missing: retrying will not help. */
const missingBinary = (r: ExecResult) => r.code === 127 && r.stderr.startsWith('cannot run')
const why = (r: ExecResult) => (r.timedOut ? 'timed out' : r.signal ? `killed by ${r.signal}` : `exit code ${r.code}: ${r.stderr.trim()}`)

function checkAttrs(a: Partial<Attrs>, at: string): Diagnostic[] {
  const d: Diagnostic[] = []
  if (typeof a.dir !== 'string' || !a.dir.startsWith('/')) d.push(diag(`${at}/dir`, 'must be an absolute directory'))
  else if (a.dir.split('/').includes('..')) d.push(diag(`${at}/dir`, "must not contain '..'"))
  if (
    a.fileName !== undefined &&
    (typeof a.fileName !== 'string' || !SAFE_NAME.test(a.fileName) || a.fileName === '.' || a.fileName === '..')
  ) {
    d.push(diag(`${at}/fileName`, 'must be a plain file name', 'letters, digits, _ . - only; no /'))
  }
  return d
}

export default definePlugin<Attrs>({
  // Called when the operator saves the resource: check every node's resolved attributes.
  validate(_ctx, input) {
    const diags = Object.entries(input.perNode).flatMap(([node, a]) => checkAttrs(a, `/nodes/${node}`))
    return diags.length ? invalid(diags) : ok()
  },

  // The wizard's list for `dir`: the usual places for a marker that exist on this node (test -d).
  async discover(ctx, field) {
    if (field !== 'dir') return ok(undefined, { choices: [] })
    const found: Array<{ value: string; label: string }> = []
    for (const d of ['/run', '/srv', '/tmp', '/var/lib', '/var/tmp']) {
      if ((await run(ctx, TEST, ['-d', d])).code === 0) found.push({ value: d, label: `${d} (exists)` })
    }
    return ok(`${found.length} directories`, { choices: found })
  },

  // Idempotent: touching an existing marker succeeds too.
  async online(ctx) {
    const file = markerPath(ctx.attrs)
    const r = await run(ctx, TOUCH, ['--', file])
    if (r.code === 0) {
      ctx.log.info(`marker ${file} created`)
      return ok(`created ${file}`)
    }
    return failed(`touch ${file}: ${why(r)}`, { recoverable: !missingBinary(r) })
  },

  // Idempotent: rm -f of a missing marker succeeds.
  async offline(ctx) {
    const file = markerPath(ctx.attrs)
    const r = await run(ctx, RM, ['-f', '--', file])
    if (r.code === 0) {
      ctx.log.info(`marker ${file} removed`)
      return ok(`removed ${file}`)
    }
    return failed(`rm ${file}: ${why(r)}`, { recoverable: !missingBinary(r) })
  },

  // Forced offline after a failed offline: same as offline here.
  async clean(ctx) {
    const r = await run(ctx, RM, ['-f', '--', markerPath(ctx.attrs)])
    return r.code === 0 ? ok('cleaned') : failed(`rm: ${why(r)}`)
  },

  // ok: the marker exists. notRunning: test(1) said it does not (exit 1).
  // unknown: we could not find out (timeout, test's own error): never report notRunning then,
  // or the cluster would fail over a resource that may well be running.
  async monitor(ctx) {
    const file = markerPath(ctx.attrs)
    const r = await run(ctx, TEST, ['-e', file])
    if (r.code === 0) return ok()
    if (r.code === 1) return notRunning(`${file} does not exist`)
    if (missingBinary(r)) return failed(r.stderr, { recoverable: false })
    return unknown(`test -e ${file}: ${why(r)}`)
  },
})
