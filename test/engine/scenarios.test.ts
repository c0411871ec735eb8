// Runs every scenario in test/scenarios/<name>/scenario.json through simulate() and checks its
// expectations; a failure prints the difference (missing / extra actions, states).

import t from 'tap'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { check, loadScenarios, runScenario } from './scenario-lib.js'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', 'scenarios')
const scenarios = loadScenarios(root)

t.ok(scenarios.length >= 45, `at least 45 scenarios (found ${scenarios.length})`)

for (const { name, file } of scenarios) {
  t.test(name, async (t) => {
    const res = runScenario(file)
    const problems = check(file, res)
    t.same(problems, [], `${file.description}\n${problems.join('\n')}`)
  })
}
