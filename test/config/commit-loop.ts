// Test helper (not a test): commits main.json generation after generation, and now and then hb.json,
// as fast as it can, until it is killed. Prints "ready <main> <hb>" after loading, then
// "main <generation>" / "hb <generation>" after each commit returns (stdout to a pipe is synchronous on
// Linux, so a printed generation was durably committed before the parent could see it).
// Usage: node commit-loop.(ts|mjs) <config dir> [--wait]
// --wait: start up (imports, schema compilation), then wait for a line on stdin before touching the
// directory, so the parent can warm the next victim while it checks the files the last one left.

import { once } from 'node:events'
import type { MainConfig } from '../../core/engine/model.js'
import type { HbConfig } from '../../core/config/hb-model.js'
import { ConfigStore } from '../../core/config/store.js'

const dir = process.argv[2]
if (!dir) throw new Error('usage: commit-loop <config dir> [--wait]')
if (process.argv[3] === '--wait') await once(process.stdin, 'data')
const store = new ConfigStore(dir)
let { main, hb } = await store.load()
process.stdout.write(`ready ${main.generation} ${hb.generation}\n`)

for (;;) {
  const g = main.generation + 1
  const next = structuredClone(main) as MainConfig
  // The content depends on the generation and the size varies, so a torn file cannot pass for a whole one.
  next.resources[0]!.attrs = { gen: g, pad: 'x'.repeat((g * 7919) % 20000) }
  main = await store.commit(next, { expectGeneration: main.generation })
  process.stdout.write(`main ${main.generation}\n`)
  if (g % 5 === 0) {
    const h = structuredClone(hb) as HbConfig
    h.timing = { intervalMs: 100 + (h.generation % 50), deadMs: 1000 }
    hb = await store.commitHb(h, { expectGeneration: hb.generation })
    process.stdout.write(`hb ${hb.generation}\n`)
  }
}
