// Test processes only: collect garbage while Node's environment is still alive. isolated-vm handles
// (disposed isolates' references) finalised later — during the coverage write at exit — trip an
// assertion in isolated-vm and abort a test process whose tests all passed.
process.on('exit', () => {
  if (typeof globalThis.gc === 'function') globalThis.gc()
})
