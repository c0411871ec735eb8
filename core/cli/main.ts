// mccs: one CLI for the agent and its operators. Human tables by default, --json for machines.
import { parseArgs } from 'node:util'
import { stdio, type CliIO } from './io.js'
import { pluginCommand } from './plugin-cmd.js'

const USAGE = `usage: mccs <command> [options]
  plugin list|info <type>      loaded resource types, permissions, wizard schema
options: --json  --plugins <dir> (extra plugin folder, repeatable)`

export async function main(argv: string[], io: CliIO = stdio): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true, strict: false,
    options: { json: { type: 'boolean' }, plugins: { type: 'string', multiple: true }, help: { type: 'boolean', short: 'h' } },
  })
  const [cmd, ...rest] = positionals
  const json = values.json === true
  const pluginDirs = (values.plugins as string[] | undefined) ?? []
  switch (cmd) {
    case 'plugin':
      return pluginCommand(rest, { json, pluginDirs }, io)
    default:
      io.err(USAGE)
      return cmd && !values.help ? 2 : 0
  }
}

// Run when this is the entry point (dist/mccs.js via bin/mccs), not when a test imports it.
const entry = process.argv[1] ?? ''
if (/(?:^|\/)(?:mccs(?:\.js)?|main\.ts)$/.test(entry)) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code }, (err: unknown) => {
    process.stderr.write(`mccs: ${(err as Error)?.stack ?? String(err)}\n`)
    process.exitCode = 1
  })
}
