// mccs aws policy [--json] | mccs aws check [--json]
// policy: the minimal IAM policy for this install's configured AWS resources and AWS fence devices, built
//   from the aws.ec2:<Action> permissions of their types' manifests (nothing else is ever called).
// check: a DryRun of each of those actions with this node's AWS settings (config/aws.json), each reported
//   allowed / denied / not checkable. Actions without DryRun in EC2 are never sent.
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import type { Bootstrap } from '../config/bootstrap.js'
import { loadTypes } from './plugin-cmd.js'
import { table } from './table.js'
import { EXIT } from './exit-codes.js'
import type { CliIO } from './io.js'
import { t as tr, type Locale } from '../i18n/messages.js'
import { exitWithoutTeardown } from './isolate-exit.js'

export interface AwsNeeds {
  byType: Record<string, string[]>
  actions: string[]
  policy: Record<string, unknown>
}

async function readJson(file: string): Promise<Record<string, unknown> | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw Object.assign(new Error(`${file}: ${(e as Error).message}`), { code: 'MCCS_ERR_CONFIG_SYNTAX' })
  }
}

/** The configured types (resources of main.json, fence devices of hb.json) and the EC2 actions they need. */
export async function awsNeeds(b: Pick<Bootstrap, 'configDir' | 'pluginDirs'>): Promise<AwsNeeds> {
  const main = await readJson(path.join(b.configDir, 'main.json'))
  const hb = await readJson(path.join(b.configDir, 'hb.json'))
  const types = new Set<string>()
  for (const r of (main?.resources as Array<{ type?: unknown }> | undefined) ?? []) if (typeof r.type === 'string') types.add(r.type)
  for (const n of (hb?.nodes as Array<{ fencing?: Array<{ type?: unknown }> }> | undefined) ?? []) {
    for (const f of n.fencing ?? []) if (typeof f.type === 'string') types.add(f.type)
  }
  const { host } = await loadTypes(b.pluginDirs)
  try {
    const byType: Record<string, string[]> = {}
    for (const t of [...types].sort()) {
      const acts = (host.get(t)?.manifest.permissions ?? []).filter((p) => p.startsWith('aws.ec2:')).map((p) => p.slice('aws.ec2:'.length))
      if (acts.length) byType[t] = acts.sort()
    }
    const actions = [...new Set(Object.values(byType).flat())].sort()
    const policy = {
      Version: '2012-10-17',
      Statement: actions.length ? [{ Sid: 'MccsClusterEc2', Effect: 'Allow', Action: actions.map((a) => `ec2:${a}`), Resource: '*' }] : [],
    }
    return { byType, actions, policy }
  } finally {
    // The CLI exits right after: its isolates must be gone, and the process leaves without the teardown that
    // finalises isolated-vm handles (isolate-exit.ts says why).
    host.dispose()
    await host.whenGone(3000)
    exitWithoutTeardown()
  }
}

const RESULT_KEY = {
  allowed: 'cli.aws.allowed',
  denied: 'cli.aws.denied',
  unknown: 'cli.aws.unknown',
  'not checkable': 'cli.aws.notCheckable',
} as const

export async function awsCommand(args: string[], b: Bootstrap, o: { json: boolean; locale?: Locale }, io: CliIO): Promise<number> {
  const l = o.locale ?? 'en'
  const sub = args[0]
  if (sub !== 'policy' && sub !== 'check') {
    io.err(tr(l, 'cli.aws.usage'))
    return EXIT.USAGE
  }
  const needs = await awsNeeds(b)
  if (sub === 'policy') {
    if (o.json) {
      io.out(JSON.stringify(needs.policy, null, 2))
      return EXIT.OK
    }
    if (!needs.actions.length) {
      io.out(tr(l, 'cli.aws.noPolicy'))
      return EXIT.OK
    }
    io.out(
      table(
        [tr(l, 'cli.aws.colType'), tr(l, 'cli.aws.colActions')],
        Object.entries(needs.byType).map(([t, a]) => [t, a.join(' ')]),
      ),
    )
    io.out('')
    io.out(tr(l, 'cli.aws.policyHead'))
    io.out(JSON.stringify(needs.policy, null, 2))
    return EXIT.OK
  }
  const { awsEc2Provider } = await import('../plugins/caps/aws-ec2.js')
  const { PermissionSet } = await import('../plugins/permissions.js')
  const provider = awsEc2Provider({ settingsFile: path.join(b.configDir, 'aws.json') })
  const quiet = { debug() {}, info() {}, warn() {}, error() {} }
  const info = {
    plugin: 'mccs-aws-check',
    resource: 'aws-check',
    node: b.nodeName,
    hook: 'validate',
    attrs: {},
    permissions: new PermissionSet(needs.actions.map((a) => `aws.ec2:${a}`)),
    signal: new AbortController().signal,
    deadline: Date.now() + 20_000,
    log: quiet,
    paths: { home: b.home, scripts: b.scriptDir },
  }
  const rows = await Promise.all(
    needs.actions.map(async (a) => {
      const r = (await provider.methods.dryRun!.run([a, {}], info)) as { allowed: boolean; checked: boolean; code: string }
      // Without real parameters EC2 may answer a parameter error before the permission check: 'unknown'.
      const result: keyof typeof RESULT_KEY = r.allowed
        ? 'allowed'
        : r.code === 'UnauthorizedOperation'
          ? 'denied'
          : r.checked
            ? 'unknown'
            : 'not checkable'
      return { action: a, result, code: r.code }
    }),
  )
  if (o.json) io.out(JSON.stringify({ node: b.nodeName, actions: rows }, null, 2))
  else
    io.out(
      table(
        [tr(l, 'cli.aws.colAction'), tr(l, 'cli.aws.colResult'), tr(l, 'cli.aws.colAnswer')],
        rows.map((r) => [`ec2:${r.action}`, tr(l, RESULT_KEY[r.result]), r.code]),
      ),
    )
  return rows.some((r) => r.result === 'denied') ? EXIT.FAILED : EXIT.OK
}
