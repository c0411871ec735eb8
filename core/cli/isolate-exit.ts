// A CLI process that created isolates (it loaded the resource types: mccs plugin, config, aws) leaves without
// Node's environment teardown. isolated-vm handles still alive then are finalised by a garbage collection
// during that teardown, and their finaliser asserts on the environment that is gone: the process aborts
// (exit 134, "IsolateEnvironment::GetCurrent(): Assertion `environment != nullptr' failed") after its output
// was written and whatever the command returned (test/agent/third-party.test in two full runs, on `mccs plugin
// list`, although the host was disposed and its isolates awaited). The test processes leave the same way
// (test/setup/gc-at-exit.mjs). The 'exit' event comes once the event loop has drained: output is written.
let armed = false
export function exitWithoutTeardown(): void {
  if (armed) return
  armed = true
  process.on('exit', (code) => {
    const reallyExit = (process as unknown as { reallyExit?: (code: number) => never }).reallyExit
    if (typeof reallyExit === 'function') reallyExit(typeof process.exitCode === 'number' ? process.exitCode : code)
  })
}
