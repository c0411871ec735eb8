// The command line of mccs, parsed one way for the full entry (main.ts) and the thin one (thin.ts), so both
// pick the same command from the same words.
import { parseArgs } from 'node:util'

export function parseCli(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: false,
    options: {
      json: { type: 'boolean' },
      wait: { type: 'boolean' },
      timeout: { type: 'string' },
      node: { type: 'string' },
      persistent: { type: 'boolean' },
      off: { type: 'boolean' },
      plugins: { type: 'string', multiple: true },
      dir: { type: 'string' },
      port: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      lang: { type: 'string' },
      version: { type: 'boolean', short: 'V' },
      // configuration commands (edit-cmd.ts)
      nodes: { type: 'string' },
      failover: { type: 'boolean' },
      'no-failover': { type: 'boolean' },
      autostart: { type: 'boolean' },
      'no-autostart': { type: 'boolean' },
      failback: { type: 'boolean' },
      'no-failback': { type: 'boolean' },
      force: { type: 'boolean' },
      type: { type: 'string' },
      group: { type: 'string' },
      attr: { type: 'string', multiple: true },
      'node-attr': { type: 'string', multiple: true },
      policy: { type: 'string', multiple: true },
      unset: { type: 'string', multiple: true },
      'unset-policy': { type: 'string', multiple: true },
      critical: { type: 'boolean' },
      'non-critical': { type: 'boolean' },
      monitored: { type: 'boolean' },
      unmonitored: { type: 'boolean' },
      'expect-generation': { type: 'string' },
      discard: { type: 'string' }, // mccs mirror resolve
      as: { type: 'string' }, // mccs user: the account that logs in
      role: { type: 'string' }, // mccs user add
    },
  })
}

export type CliValues = ReturnType<typeof parseCli>['values']

/** The group/resource subcommands that edit the configuration (edit-cmd.ts), not operator commands. */
export const EDIT_SUBCOMMANDS = ['add', 'edit', 'delete', 'link', 'unlink']
