// This node's AWS settings for the console (issue 18, What 3; the manual's "Add AWS CLI Profile", 3.2.3):
// view them, change them, add a profile, and check them against EC2, on any node of the cluster. The
// settings are the ones the aws.ec2 capability reads: <home>/config/aws.json (region, endpoint, profile;
// no profile = the instance role) and the agent user's shared AWS files (aws-files.ts). Every input is
// checked here, on the node that writes it (and by the console before it asks), and refused naming the
// field; a refusal writes nothing. Keys are written, never read back: a view says `credentials: 'set'`.
// The check is one DryRun of DescribeNetworkInterfaces (what the wizards' ENI lists need) with a hard
// bound of CHECK_MS, so an endpoint that does not answer is reported within a few seconds.
import { readFile } from 'node:fs/promises'
import { writeFileAtomic } from '../config/atomic.js'
import { MccsError, isMccsError } from '../errors.js'
import type { Log } from '../log/logger.js'
import type { OpLog } from '../log/oplog.js'
import { PROFILE_RE, REGION_RE, checkEndpoint, checkFileSettings, type AwsFileSettings } from '../plugins/caps/aws-config.js'
import { listProfileViews, sharedFiles, writeProfile, type ProfileKeys, type ProfileView } from '../plugins/caps/aws-files.js'
import { awsEc2Provider } from '../plugins/caps/aws-ec2.js'
import { PermissionSet } from '../plugins/permissions.js'
import type { PeerRpc } from './peer-rpc.js'

/** The longest a check waits for EC2 (credentials, connection, answer). */
export const CHECK_MS = 4000
/** How long the console waits for another node's answer: its check plus the channel. */
export const ASK_MS = CHECK_MS + 3000

export interface AwsSettingsInput {
  region?: string
  endpoint?: string
  /** Absent: the instance role. */
  profile?: string
}

export interface AwsNodeView {
  node: string
  settings: AwsFileSettings
  /** What calls use: `profile <name>` or the instance role. */
  identity: 'profile' | 'instance-role'
  profiles: ProfileView[]
  files: { settings: string; config: string; credentials: string }
  /** aws.json cannot be used as it is (the reason, naming the field). */
  problem?: string
}

export interface AwsCheckResult {
  node: string
  ok: boolean
  ms: number
  profile: string
  region?: string
  endpoint?: string
  /** The catalogue code when not ok (MCCS_ERR_AWS_UNREACHABLE, MCCS_ERR_AWS_API, MCCS_ERR_AWS_CONFIG). */
  code?: string
  /** EC2's own error code or the network error (AuthFailure, UnauthorizedOperation, ECONNREFUSED, timeout). */
  awsCode?: string
  /** The setting at fault: region, endpoint, profile. */
  field?: string
  message: string
}

export type AwsMessage =
  | { t: 'awsView' }
  | { t: 'awsSet'; settings: AwsSettingsInput; user: string }
  | { t: 'awsProfile'; name: string; keys: ProfileKeys; user: string }
  | { t: 'awsCheck'; settings?: AwsSettingsInput; over?: { profile?: string; region?: string } }

const invalid = (field: string, reason: string) => new MccsError('MCCS_ERR_INVALID', reason, { field })
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

const ACCESS_KEY_RE = /^[A-Za-z0-9]{1,128}$/
const SECRET_RE = /^[A-Za-z0-9/+=]{1,256}$/
const TOKEN_RE = /^[A-Za-z0-9/+=]{1,4096}$/

function str(v: unknown, field: string, max: number): string | undefined {
  if (v === undefined || v === null || v === '') return undefined
  if (typeof v !== 'string') throw invalid(field, 'must be a string')
  if (v.length > max) throw invalid(field, `must be at most ${max} characters (got ${v.length})`)
  return v
}

/** Region, endpoint and profile as the console sends them; absent or empty = not set. */
export function checkSettingsInput(v: unknown): AwsSettingsInput {
  if (!isObj(v)) throw invalid('/', 'must be an object {region, endpoint, profile}')
  for (const k of Object.keys(v))
    if (!['region', 'endpoint', 'profile'].includes(k)) throw invalid(`/${k}`, 'is not an AWS setting (region, endpoint, profile)')
  const region = str(v.region, '/region', 32)
  if (region !== undefined && !REGION_RE.test(region)) throw invalid('/region', `must be an AWS region like eu-west-1 (got '${region}')`)
  const endpoint = str(v.endpoint, '/endpoint', 512)
  if (endpoint !== undefined) {
    try {
      checkEndpoint(endpoint, 'aws.json', '/endpoint')
    } catch (e) {
      throw invalid('/endpoint', (e as MccsError).reason)
    }
  }
  const profile = str(v.profile, '/profile', 64)
  if (profile !== undefined && !PROFILE_RE.test(profile))
    throw invalid('/profile', 'must be a profile name (letters, digits, _ . + @ -; 1-64)')
  return { ...(region ? { region } : {}), ...(endpoint ? { endpoint } : {}), ...(profile ? { profile } : {}) }
}

/** A resource's `profile` and `region` attributes over a node's settings (empty: the node's). */
export function checkOverride(v: unknown): { profile?: string; region?: string } {
  if (!isObj(v)) throw invalid('/', 'must be an object {profile?, region?}')
  for (const k of Object.keys(v))
    if (k !== 'profile' && k !== 'region') throw invalid(`/${k}`, 'is not a resource AWS attribute (profile, region)')
  const { profile, region } = checkSettingsInput(v)
  return { ...(profile ? { profile } : {}), ...(region ? { region } : {}) }
}

/** A profile to add: its name, keys and (optional) region. The values go into INI files, so each is held
 *  to the characters AWS uses (no line break, bracket or space can reach the file). */
export function checkProfileInput(v: unknown): { name: string; keys: ProfileKeys } {
  if (!isObj(v)) throw invalid('/', 'must be an object {name, accessKeyId, secretAccessKey, sessionToken?, region?}')
  const allowed = ['name', 'accessKeyId', 'secretAccessKey', 'sessionToken', 'region']
  for (const k of Object.keys(v)) if (!allowed.includes(k)) throw invalid(`/${k}`, `is not a profile field (${allowed.join(', ')})`)
  const name = str(v.name, '/name', 64)
  if (name === undefined) throw invalid('/name', 'is required: the profile name')
  if (!PROFILE_RE.test(name)) throw invalid('/name', 'must be a profile name (letters, digits, _ . + @ -; 1-64)')
  const accessKeyId = str(v.accessKeyId, '/accessKeyId', 128)
  if (accessKeyId === undefined) throw invalid('/accessKeyId', 'is required')
  if (!ACCESS_KEY_RE.test(accessKeyId)) throw invalid('/accessKeyId', 'must be letters and digits only (an access key id)')
  const secretAccessKey = str(v.secretAccessKey, '/secretAccessKey', 256)
  if (secretAccessKey === undefined) throw invalid('/secretAccessKey', 'is required')
  if (!SECRET_RE.test(secretAccessKey)) throw invalid('/secretAccessKey', 'must be letters, digits, / + = only (a secret access key)')
  const sessionToken = str(v.sessionToken, '/sessionToken', 4096)
  if (sessionToken !== undefined && !TOKEN_RE.test(sessionToken)) throw invalid('/sessionToken', 'must be letters, digits, / + = only')
  const region = str(v.region, '/region', 32)
  if (region !== undefined && !REGION_RE.test(region)) throw invalid('/region', `must be an AWS region like eu-west-1 (got '${region}')`)
  return {
    name,
    keys: { accessKeyId, secretAccessKey, ...(sessionToken ? { sessionToken } : {}), ...(region ? { region } : {}) },
  }
}

export class AwsNode {
  constructor(private readonly o: { node: string; settingsFile: string; log: Log; oplog: OpLog }) {}

  private async saved(): Promise<{ settings: AwsFileSettings; problem?: string }> {
    let text: string
    try {
      text = await readFile(this.o.settingsFile, 'utf8')
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { settings: {} }
      return { settings: {}, problem: `cannot be read: ${(e as Error).message}` }
    }
    try {
      return { settings: checkFileSettings(JSON.parse(text), this.o.settingsFile) }
    } catch (e) {
      return { settings: {}, problem: isMccsError(e) ? `${e.field ?? ''}: ${e.reason}` : `is not valid JSON: ${(e as Error).message}` }
    }
  }

  async view(): Promise<AwsNodeView> {
    const { settings, problem } = await this.saved()
    const files = sharedFiles()
    return {
      node: this.o.node,
      settings,
      identity: settings.profile ? 'profile' : 'instance-role',
      profiles: await listProfileViews(files).catch(() => []),
      files: { settings: this.o.settingsFile, ...files },
      ...(problem ? { problem } : {}),
    }
  }

  private record(user: string, command: string, args: Record<string, unknown>, e?: unknown) {
    return this.o.oplog
      .append({
        user,
        node: this.o.node,
        command,
        target: this.o.node,
        args,
        result: e ? (isMccsError(e) && e.code === 'MCCS_ERR_INVALID' ? 'rejected' : 'failed') : 'done',
        ...(e ? { code: isMccsError(e) ? e.code : 'MCCS_ERR_INTERNAL', reason: (e as Error).message } : {}),
      })
      .catch(() => {})
  }

  /** Replaces region, endpoint and profile in aws.json (cacheTtlMs is kept), atomically, mode 0600. */
  async set(input: unknown, user: string): Promise<AwsNodeView> {
    let s: AwsSettingsInput
    try {
      s = checkSettingsInput(input)
      const { settings } = await this.saved()
      const next: AwsFileSettings = { ...s, ...(settings.cacheTtlMs !== undefined ? { cacheTtlMs: settings.cacheTtlMs } : {}) }
      checkFileSettings(next, this.o.settingsFile)
      await writeFileAtomic(this.o.settingsFile, JSON.stringify(next, null, 2) + '\n', 0o600)
    } catch (e) {
      await this.record(user, 'aws.settings', isObj(input) ? pick(input) : {}, e)
      throw e
    }
    await this.record(user, 'aws.settings', { ...s, ...(s.profile ? {} : { identity: 'instance-role' }) })
    this.o.log.log('info', 'AWS settings changed', { by: user, ...s })
    return this.view()
  }

  /** Adds or replaces a profile of the agent user's shared files (keys never logged). */
  async addProfile(input: unknown, user: string): Promise<AwsNodeView> {
    let p: { name: string; keys: ProfileKeys }
    try {
      p = checkProfileInput(input)
      await writeProfile(p.name, p.keys)
    } catch (e) {
      const name = isObj(input) && typeof input.name === 'string' ? input.name.slice(0, 64) : undefined
      await this.record(user, 'aws.profile', name ? { name } : {}, e)
      throw e
    }
    const args = { name: p.name, credentials: 'set', ...(p.keys.region ? { region: p.keys.region } : {}) }
    await this.record(user, 'aws.profile', args)
    this.o.log.log('info', 'AWS profile written', { by: user, ...args, file: sharedFiles().credentials })
    return this.view()
  }

  /** One DryRun of DescribeNetworkInterfaces with the given settings (else the saved ones), bounded by
   *  CHECK_MS. `over`: a resource's own profile and region over them, as its calls would use (the wizard). */
  async check(input?: unknown, over?: unknown): Promise<AwsCheckResult> {
    const given = input === undefined ? (await this.saved()).settings : checkSettingsInput(input)
    const o = over === undefined ? {} : checkOverride(over)
    const settings = { ...given, ...o }
    const provider = awsEc2Provider({ settingsFile: this.o.settingsFile, fixed: settings })
    const base = {
      node: this.o.node,
      profile: settings.profile ?? 'instance-role',
      ...(settings.region ? { region: settings.region } : {}),
      ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    }
    const log = this.o.log.child({ component: 'aws-check' })
    const ac = new AbortController()
    const t0 = performance.now()
    const run = provider.methods.dryRun!.run(['DescribeNetworkInterfaces', {}], {
      plugin: 'mccs-console',
      resource: 'aws-check',
      node: this.o.node,
      hook: 'validate',
      attrs: {},
      permissions: new PermissionSet(['aws.ec2:DescribeNetworkInterfaces']),
      signal: ac.signal,
      deadline: Date.now() + CHECK_MS,
      log: {
        debug: (m, d) => log.log('debug', m, d),
        info: (m, d) => log.log('info', m, d),
        warn: (m, d) => log.log('warn', m, d),
        error: (m, d) => log.log('error', m, d),
      },
      paths: { home: '', scripts: '' },
    }) as Promise<{ allowed: boolean; checked: boolean; code: string; message?: string }>
    let timer: NodeJS.Timeout | undefined
    // Credentials from the instance metadata service are not bound by the call's signal: this is.
    const late = new Promise<never>((_r, reject) => {
      timer = setTimeout(() => {
        ac.abort()
        reject(new MccsError('MCCS_ERR_AWS_UNREACHABLE', `no answer within ${CHECK_MS / 1000} s`, { field: 'timeout' }))
      }, CHECK_MS + 500)
    })
    const ms = () => Math.round(performance.now() - t0)
    try {
      const r = await Promise.race([run, late])
      if (r.allowed) return { ...base, ok: true, ms: ms(), message: 'ec2:DescribeNetworkInterfaces allowed' }
      return {
        ...base,
        ok: false,
        ms: ms(),
        code: 'MCCS_ERR_AWS_API',
        awsCode: r.code,
        field: 'profile',
        message: r.message ?? `ec2:DescribeNetworkInterfaces: ${r.code}`,
      }
    } catch (e) {
      const err = e as MccsError
      const code = isMccsError(e) ? e.code : 'MCCS_ERR_INTERNAL'
      // The setting at fault: no region, the endpoint does not answer, or the profile's credentials.
      const field =
        code === 'MCCS_ERR_AWS_CONFIG'
          ? String(err.field ?? '').replace(/^\//, '') || 'region'
          : code === 'MCCS_ERR_AWS_UNREACHABLE'
            ? /Credentials|credential/i.test(err.message)
              ? 'profile'
              : 'endpoint'
            : 'profile'
      return {
        ...base,
        ok: false,
        ms: ms(),
        code,
        ...(err.field && code !== 'MCCS_ERR_AWS_CONFIG' ? { awsCode: err.field } : {}),
        field,
        // A connection that never answered: say how long it was given, not the SDK's word.
        message:
          code === 'MCCS_ERR_AWS_UNREACHABLE' && err.field === 'timeout'
            ? `no answer within ${CHECK_MS / 1000} s (timeout)`
            : isMccsError(e)
              ? e.reason
              : String((e as Error).message),
      }
    } finally {
      clearTimeout(timer)
      ac.abort()
      run.catch(() => {})
    }
  }

  /** Answers another node's console over the peer channel. */
  handle(m: AwsMessage): Promise<unknown> {
    switch (m.t) {
      case 'awsView':
        return this.view()
      case 'awsSet':
        return this.set(m.settings, userName(m.user))
      case 'awsProfile':
        return this.addProfile({ ...(isObj(m.keys) ? m.keys : {}), name: m.name }, userName(m.user))
      case 'awsCheck':
        return this.check(m.settings, m.over)
      default:
        throw new MccsError('MCCS_ERR_INVALID', 'unknown AWS request', { field: 't' })
    }
  }
}

const userName = (v: unknown): string => (typeof v === 'string' && v.length <= 64 ? v : 'unknown')
const pick = (o: Record<string, unknown>) =>
  Object.fromEntries(['region', 'endpoint', 'profile'].filter((k) => typeof o[k] === 'string').map((k) => [k, String(o[k]).slice(0, 80)]))

export function serveAws(rpc: PeerRpc, aws: AwsNode): void {
  rpc.serve<AwsMessage>({
    awsView: (_from, m) => aws.handle(m),
    awsSet: (_from, m) => aws.handle(m),
    awsProfile: (_from, m) => aws.handle(m),
    awsCheck: (_from, m) => aws.handle(m),
  })
}
