// Test processes only. isolated-vm handles still alive when Node tears its environment down are finalised
// by any later garbage collection, and their finaliser asserts on the environment that is gone: the
// process aborts although its tests all passed. Writing the coverage report at exit allocates enough to
// collect garbage at exactly that point. So, while the environment is still alive: collect garbage, write
// the coverage now (NODE_V8_COVERAGE, which tap sets) and stop collecting it, so nothing runs a collection
// after isolated-vm's teardown.
import v8 from 'node:v8'

process.on('exit', () => {
  if (typeof globalThis.gc === 'function') globalThis.gc()
  if (process.env.NODE_V8_COVERAGE) {
    v8.takeCoverage()
    v8.stopCoverage()
  }
})
