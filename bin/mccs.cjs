#!/usr/bin/env -S node --no-node-snapshot
// The mccs command. isolated-vm (the plugin sandbox) requires --no-node-snapshot on Node >= 20.
// CommonJS on purpose: an extensionless ES module entry breaks under tools that hook require().
import('../dist/mccs.js').then(
  async ({ main }) => {
    process.exitCode = await main(process.argv.slice(2))
  },
  (err) => {
    process.stderr.write(`mccs: cannot load dist/mccs.js (run npm run build): ${err && err.message}\n`)
    process.exitCode = 1
  },
)
