// Dev aid: prints what a scenario produces (npx tsx test/engine/print-scenario.ts test/scenarios/<name>).
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { check, digest, runScenario, type ScenarioFile } from './scenario-lib.js'

const dir = process.argv[2]!
const f = JSON.parse(readFileSync(join(dir, 'scenario.json'), 'utf8')) as ScenarioFile
const res = runScenario(f)
console.log(JSON.stringify(digest(res), null, 1))
const st = res.state
console.log(
  'resources',
  JSON.stringify(
    Object.fromEntries(
      Object.values(st.groups)
        .flatMap((g) => Object.entries(g.resources))
        .flatMap(([r, m]) => Object.entries(m).map(([n, s]) => [`${r}@${n}`, s.state])),
    ),
  ),
)
console.log(
  'groups',
  JSON.stringify(
    Object.fromEntries(Object.entries(st.groups).map(([g, s]) => [g, { active: s.activeNode, lock: s.lock, nodes: s.nodes }])),
  ),
)
console.log(
  'running',
  JSON.stringify(res.running),
  'quiescent',
  res.quiescent,
  'inFlight',
  res.inFlight.map((a) => `${a.kind} ${a.resource}@${a.node}`),
)
console.log('problems', check(f, res))
