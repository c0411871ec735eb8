#!/usr/bin/env node
// The mccs command. CommonJS on purpose: an extensionless ES module entry breaks under tools that hook require().
// `mccs status` and the group/resource operator commands run in this process from the thin entry
// (dist/mccs-thin.cjs: the control-socket client and the printing, issue 19). Everything else runs the full
// entry, dist/mccs.js, which may load isolated-vm (the plugin sandbox): that requires --no-node-snapshot on
// Node >= 20, and the flag alone costs a Node start about 40 ms of CPU, so it is not on the #! line: a
// process started without it runs the full entry in a child that has it.
const SNAPSHOT_OFF = '--no-node-snapshot'
const argv = process.argv.slice(2)

const cannotLoad = (file) => (err) => {
  process.stderr.write(`mccs: cannot load ${file} (run npm run build): ${err && err.message}\n`)
  process.exitCode = 1
}

Promise.resolve()
  .then(() => require('../dist/mccs-thin.cjs'))
  .then(async ({ thinMain }) => {
    const code = await thinMain(argv)
    if (code !== null) process.exitCode = code
    else if (process.execArgv.includes(SNAPSHOT_OFF)) full()
    else withSnapshotOff()
  }, cannotLoad('dist/mccs-thin.cjs'))

function full() {
  import('../dist/mccs.js').then(async ({ main }) => {
    process.exitCode = await main(argv)
  }, cannotLoad('dist/mccs.js'))
}

// The same command in a child with the flag; this process only passes signals on and ends as the child ended.
function withSnapshotOff() {
  const { spawn } = require('node:child_process')
  const child = spawn(process.execPath, [SNAPSHOT_OFF, ...process.execArgv, __filename, ...argv], { stdio: 'inherit' })
  // A terminal's Ctrl-C and Ctrl-\ reach the child already (same process group); sending them again would
  // be a second interrupt, which a command that stops on the first one (agent, demo) would die of.
  const fromTerminal = require('node:tty').isatty(0) ? ['SIGINT', 'SIGQUIT'] : []
  const forward = ['SIGTERM', 'SIGHUP', 'SIGINT', 'SIGQUIT', 'SIGUSR1', 'SIGUSR2']
  for (const sig of forward) process.on(sig, () => (fromTerminal.includes(sig) ? undefined : child.kill(sig)))
  child.on('error', (err) => {
    process.stderr.write(`mccs: cannot start ${process.execPath}: ${err.message}\n`)
    process.exitCode = 1
  })
  child.on('exit', (code, signal) => {
    if (signal) {
      process.exitCode = 128 + (require('node:os').constants.signals[signal] ?? 0) // where the signal would not end us
      process.removeAllListeners(signal)
      process.kill(process.pid, signal)
    } else process.exitCode = code
  })
}
