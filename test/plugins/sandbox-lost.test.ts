// isolated-vm gives up on an isolate when a script it was told to stop keeps running 5 s past its
// timeout (a 100 MiB JSON.stringify on a loaded host does) or V8's heap runs out, and calls the
// isolate's onCatastrophicError. The agent used to exit there (code 70): a hostile plugin could take
// its node's heartbeat down and get a healthy node fenced, and the hostile-agent test process died
// with "test unfinished" under load ("Script failed to terminate" in its log). Now the sandbox
// abandons that isolate, fails the calls inside it, and the type goes on in a fresh one; after
// LOST_ISOLATE_LIMIT losses the type is disabled. isolated-vm's own trigger cannot be produced on
// demand, so the test calls the handler the sandbox gave the isolate, as isolated-vm would.
import t from 'tap'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { createTestHost } from '@mccs/plugin-kit/testing'
import { LOST_ISOLATE_LIMIT } from '../../core/plugins/sandbox.js'

const here = path.dirname(fileURLToPath(import.meta.url))

t.test('a lost isolate fails its calls and the type goes on; too many losses disable the type', async (t) => {
  const h = await createTestHost({ pluginDir: path.join(here, '../../plugins/dummy') })
  t.teardown(async () => {
    h.dispose()
    await h.host.whenGone()
  })
  const sandbox = h.host.get(h.type)!.sandbox as unknown as {
    slot: { isolate: unknown } | null
    onLost(i: unknown, s: unknown, m: string): void
  }
  t.equal((await h.call('monitor', { resource: 'r1' })).status, 'done', 'the type answers')
  for (let i = 1; i <= LOST_ISOLATE_LIMIT; i++) {
    const slot = sandbox.slot!
    // A call in flight when the isolate is lost settles (crashed) instead of waiting for its deadline.
    const inFlight = h.call('monitor', { resource: 'r1', timeoutMs: 20_000 })
    sandbox.onLost(slot.isolate, slot, 'Script failed to terminate')
    const r = await inFlight
    t.ok(r.status === 'done' || /lost control/.test(r.error ?? ''), `the call in flight ends at once (${r.status}: ${r.error ?? ''})`)
    const next = await h.call('monitor', { resource: 'r1' })
    if (i < LOST_ISOLATE_LIMIT) {
      t.equal(next.status, 'done', `after ${i} lost isolate(s) the type answers from a new one`)
      t.not(sandbox.slot, slot, 'a new isolate')
    } else {
      t.equal(next.errorCode, 'MCCS_ERR_PLUGIN_LIMIT', `after ${i} the type is disabled: ${next.error}`)
    }
  }
  const logged = h.logs.filter((l) => l.level === 'error' && /lost control of an isolate/.test(l.msg))
  t.equal(logged.length, LOST_ISOLATE_LIMIT, 'each loss is logged, naming the plugin')
  t.equal(logged[0]?.data?.plugin, h.type)
  t.equal(process.exitCode ?? 0, 0, 'the process is not made to exit')
})
