#!/usr/bin/env -S node --no-node-snapshot
// mccs-plugin: runs the plugin kit's TypeScript CLI through tsx (isolated-vm, used by `validate`, needs
// --no-node-snapshot). CommonJS on purpose: an extensionless ES module entry breaks under tools
// that hook require().
;(async () => {
  const { register } = await import('tsx/esm/api')
  register()
  const { main } = await import('../src/cli.ts')
  process.exitCode = await main(process.argv.slice(2))
})().catch((err) => {
  process.stderr.write(`mccs-plugin: ${err && err.stack ? err.stack : err}\n`)
  process.exitCode = 1
})
