// Issue 13, What 4: core/errors.ts is the one error catalogue and the whole truth. Every code the product
// raises or checks is in it; each entry carries its HTTP status (and the CLI's exit code where the CLI maps
// the code); no other file holds a code -> status table; MccsError keeps its reason as a field.
import t from 'tap'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import * as errors from '../../core/errors.js'
import { MccsError, mccsErrorFromWire } from '../../core/errors.js'
import { EXIT } from '../../core/cli/exit-codes.js'
import * as exits from '../../core/cli/exit-codes.js'
import { exitCodeOf } from '../../core/cli/edit-cmd.js'
import * as httpErrors from '../../core/console/http-errors.js'
import { packageRoot } from '../../core/paths.js'
import type { AwsErrorCode } from '../../sdk/src/caps-aws.js'

const root = packageRoot()
// (Read loosely so that this file ran against the code before the catalogue had statuses.)
type Entry = { message: string; status: number; exit?: string }
const catalogue: Record<string, Entry> =
  (errors as unknown as { CATALOGUE?: Record<string, { message: string; status: number; exit?: string }> }).CATALOGUE ??
  Object.fromEntries(Object.entries(errors.CODES).map(([c, message]): [string, Entry] => [c, { message, status: NaN }]))
const statusOf = (errors as unknown as { statusOf?: (code: string) => number }).statusOf ?? httpErrors.statusOf

/** Source files of the product (not tests): what it raises, checks and answers. */
function sources(): string[] {
  const out: string[] = []
  const walk = (d: string) => {
    for (const f of readdirSync(d)) {
      if (f === 'node_modules' || f === 'dist' || f === 'test') continue
      const p = path.join(d, f)
      if (statSync(p).isDirectory()) walk(p)
      else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) out.push(p)
    }
  }
  walk(path.join(root, 'core'))
  for (const p of readdirSync(path.join(root, 'plugins'))) {
    const src = path.join(root, 'plugins', p, 'src')
    try {
      if (statSync(src).isDirectory()) walk(src)
    } catch {
      /* no src */
    }
  }
  walk(path.join(root, 'sdk/src'))
  return out
}
const strip = (s: string) => s.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1')

t.test('every MCCS_ERR_ code the product uses is in the catalogue', async (t) => {
  const missing = new Map<string, string>()
  for (const f of sources()) {
    // A prefix check (startsWith('MCCS_ERR_LICENSE_')) is a family of codes, not a code.
    for (const m of strip(readFileSync(f, 'utf8')).matchAll(/(?<!startsWith\(['"])\bMCCS_ERR_[A-Z0-9_]*[A-Z0-9]\b(?!_)/g)) {
      if (!Object.hasOwn(errors.CODES, m[0]) || !Object.hasOwn(catalogue, m[0])) missing.set(m[0], path.relative(root, f))
    }
  }
  t.same(Object.fromEntries(missing), {}, 'codes used but not in core/errors.ts (code: a file using it)')
})

t.test('each entry has a message, an HTTP error status, and an exit code the CLI knows when it has one', async (t) => {
  const codes = Object.keys(catalogue)
  t.ok(codes.length >= 100, `the catalogue lists the codes (${codes.length})`)
  const bad: string[] = []
  for (const [code, e] of Object.entries(catalogue)) {
    if (typeof e.message !== 'string' || !e.message) bad.push(`${code}: no message`)
    if (!Number.isInteger(e.status) || e.status < 400 || e.status > 599) bad.push(`${code}: status ${e.status}`)
    if (e.exit !== undefined && !Object.hasOwn(EXIT, e.exit)) bad.push(`${code}: exit ${e.exit} is not an EXIT name`)
    if (statusOf(code) !== e.status) bad.push(`${code}: statusOf says ${statusOf(code)}, the entry ${e.status}`)
  }
  t.same(bad, [])
  // CODES (code -> message) is the catalogue's messages, for the code that reads them.
  t.same(Object.keys(errors.CODES).sort(), codes.sort())
})

t.test('the codes the SDK names for plugin authors are catalogue codes', async (t) => {
  // The SDK imports nothing from core/, so it names its codes itself; this line stops typechecking if they drift.
  const sdkCodes: ReadonlyArray<errors.ErrorCode> = [
    'MCCS_ERR_AWS_API',
    'MCCS_ERR_AWS_THROTTLED',
    'MCCS_ERR_AWS_UNREACHABLE',
    'MCCS_ERR_AWS_CONFIG',
  ] satisfies AwsErrorCode[]
  const all: AwsErrorCode extends errors.ErrorCode ? true : false = true
  t.ok(all)
  for (const c of sdkCodes) t.ok(Object.hasOwn(catalogue, c), c)
})

t.test('no quorum, not coordinator and busy have their own statuses, never 500', async (t) => {
  t.equal(statusOf('MCCS_ERR_NO_QUORUM'), 503, 'no quorum: this partition cannot decide now (retry)')
  t.equal(statusOf('MCCS_ERR_NOT_COORDINATOR'), 503, 'not the coordinator: membership is being decided (retry)')
  t.equal(statusOf('MCCS_ERR_GROUP_BUSY'), 409, "a group's actions in progress conflict with the command")
  t.equal(statusOf('MCCS_ERR_BUSY'), 503, 'console busy checking logins')
  t.equal(statusOf('MCCS_ERR_PEER_UNREACHABLE'), 503)
  t.equal(statusOf('MCCS_ERR_PEER_TIMEOUT'), 504)
  t.equal(statusOf('MCCS_ERR_NOT_A_CODE'), 500, 'an unknown code is an internal error')
})

t.test('no other file holds a code -> status table or answers a fixed status', async (t) => {
  const rules: Array<[RegExp, string]> = [
    [/MCCS_ERR_[A-Z0-9_]+['"]?\s*[:?]\s*[1-5]\d\d\b/, 'maps a code to a status'],
    [/\.code\(\s*[45]\d\d\s*\)/, 'answers a fixed error status'],
    [/\(\s*[45]\d\d\s*,\s*errorBody\(/, 'answers a fixed error status'],
    [/statusCode\s*[:=]\s*[45]\d\d\b/, 'sets a fixed error status'],
    [/Record<ErrorCode,\s*number>/, 'is a code -> number table'],
  ]
  const found: string[] = []
  for (const f of sources()) {
    const rel = path.relative(root, f)
    // errors.ts is the catalogue; the EC2 simulator answers EC2's own XML errors, not MCCS codes.
    if (rel === 'core/errors.ts' || rel.startsWith('core/ec2sim/')) continue
    strip(readFileSync(f, 'utf8'))
      .split('\n')
      .forEach((line, i) => {
        for (const [re, why] of rules) if (re.test(line)) found.push(`${rel}:${i + 1}: ${why}: ${line.trim().slice(0, 120)}`)
      })
  }
  t.same(found, [], 'statuses come from the catalogue (statusOf / replyError)')
})

t.test('MccsError keeps the reason as a field; its message and JSON stay as they were', async (t) => {
  const e = new MccsError('MCCS_ERR_INVALID', 'must be a string', { field: 'params.node', subject: 'n1' })
  t.equal((e as unknown as { reason?: string }).reason, 'must be a string')
  t.equal(e.message, 'MCCS_ERR_INVALID: n1 params.node: must be a string', 'the message is unchanged')
  t.same(Object.keys(e.toJSON()).sort(), ['code', 'data', 'field', 'message', 'subject'], 'the wire shape is unchanged')
  t.equal(
    (new MccsError('MCCS_ERR_NO_QUORUM', 'no quorum') as unknown as { statusCode?: number }).statusCode,
    503,
    'its status, as fastify reads it',
  )
  t.same(Object.keys(JSON.parse(JSON.stringify(e))).sort(), ['code', 'field', 'message', 'subject'], 'JSON.stringify gives the same fields')
  const back = mccsErrorFromWire(JSON.parse(JSON.stringify(e.toJSON())))
  t.equal(back.message, e.message)
  t.equal((back as unknown as { reason?: string }).reason, 'must be a string', "a peer's error keeps its reason too")
  t.equal((mccsErrorFromWire({ code: 'MCCS_ERR_INTERNAL', message: 'plain text' }) as unknown as { reason?: string }).reason, 'plain text')
})

t.test('the CLI takes its exit codes from the catalogue', async (t) => {
  const exitOf = (exits as unknown as { exitOf?: (code: string | undefined, fallback: number) => number }).exitOf
  t.type(exitOf, 'function', 'exit-codes.ts resolves a code through the catalogue')
  t.equal(exitOf?.('MCCS_ERR_AGENT_DOWN', EXIT.FAILED), EXIT.AGENT_DOWN)
  t.equal(exitOf?.('MCCS_ERR_QUORUM_SERVER_DOWN', EXIT.FAILED), EXIT.AGENT_DOWN)
  t.equal(exitOf?.('MCCS_ERR_LICENSE_EXPIRED', EXIT.FAILED), EXIT.INVALID)
  t.equal(exitOf?.('MCCS_ERR_PEER_TIMEOUT', EXIT.FAILED), EXIT.FAILED, "no exit in the entry: the command's own")
  t.equal(exitOf?.(undefined, EXIT.FAILED), EXIT.FAILED)
  // `mccs group|resource add|edit|...`: unchanged for the codes it mapped before...
  for (const c of ['MCCS_ERR_CONFLICT', 'MCCS_ERR_NOT_FOUND', 'MCCS_ERR_CONFIG_GENERATION', 'MCCS_ERR_GROUP_BUSY', 'MCCS_ERR_GROUP_LOCKED'])
    t.equal(exitCodeOf(c), EXIT.REJECTED, c)
  for (const c of ['MCCS_ERR_INVALID', 'MCCS_ERR_CONFIG_SCHEMA', 'MCCS_ERR_CONFIG_REF', 'MCCS_ERR_DEP_CYCLE'])
    t.equal(exitCodeOf(c), EXIT.INVALID, c)
  // ...and a refusal for want of quorum or coordinator is "rejected" (3), not "invalid configuration" (6).
  t.equal(exitCodeOf('MCCS_ERR_NO_QUORUM'), EXIT.REJECTED, 'no quorum')
  t.equal(exitCodeOf('MCCS_ERR_NOT_COORDINATOR'), EXIT.REJECTED, 'not coordinator')
})
