// A link right after an add (issue 18: the console offers "Make … depend on …" at once): the new resource is
// in an unknown state until its first probe ends, and a link then was refused ("unknown state … not probed
// yet"; seen in full runs of new-user-journey and ui-wizard-manual). The link now waits for the group's
// probes (10 s at most) and is judged on what they found. Here the probe takes 2 s (a slow monitor).
import t from 'tap'
import { startTestAgent, res, type TestAgent } from './helpers.js'

let a: TestAgent
t.before(async () => {
  a = await startTestAgent({
    types: {},
    groups: [{ name: 'g', nodes: ['n1'], failoverOnFailure: false, autoStart: false, autoFailback: false }],
    resources: [res('child', 'dummy', {})],
    dependencies: [],
  })
})
t.teardown(async () => {
  await a?.cleanup()
})

t.test('link a resource whose first probe is still running', async (t) => {
  const add = await a.cli('resource', 'add', 'par', '--type', 'dummy', '--group', 'g', '--attr', 'monitor=slow', '--attr', 'delayMs=2000')
  t.equal(add.code, 0, add.err + add.out)
  const t0 = Date.now()
  const link = await a.cli('resource', 'link', 'par', 'child')
  t.equal(link.code, 0, `linked once the probe ended (${Date.now() - t0} ms): ${link.err}${link.out}`)
  t.same(a.agent.store.current().main.dependencies, [{ parent: 'par', child: 'child' }], 'the dependency is in main.json')
})
