// Test processes only. isolated-vm handles still alive when Node tears its environment down are finalised
// by a garbage collection during that teardown, and their finaliser asserts on the environment that is
// gone: the process aborts although its tests all passed (api-auth.test in full runs, about one run in two).
// So, while the environment is still alive: collect garbage, write the coverage now (NODE_V8_COVERAGE, which
// tap sets) and stop collecting it. Then, as the very last 'exit' listener (added when the event loop has
// drained, after tap's own), leave with the exit code without the teardown: nothing is left to write.
import v8 from 'node:v8'

process.on('exit', () => {
  if (typeof globalThis.gc === 'function') globalThis.gc()
  if (process.env.NODE_V8_COVERAGE) {
    v8.takeCoverage()
    v8.stopCoverage()
  }
})

let last = false
process.on('beforeExit', () => {
  if (last) return
  last = true
  process.on('exit', (code) => process.reallyExit(process.exitCode ?? code))
})
