// Capability `aws.ec2`: EC2 API calls for plugins, made by the agent with @aws-sdk/client-ec2.
//   ctx.aws.ec2.call(action, params)            one call, any action the manifest permits
//   ctx.aws.ec2.describe(action, params, {maxAgeMs})  Describe* through the node's shared cache (aws-cache.ts)
//   ctx.aws.ec2.dryRun(action, params)          { allowed, code }: may these credentials make the call?
//   ctx.aws.ec2.settings()                      profile / region / endpoint in use (no secrets)
// Each call needs `aws.ec2:<Action>` in the manifest. Identity and target: aws-config.ts. The SDK's own
// retries are off (maxAttempts 1): we retry throttling and 5xx ourselves with full-jitter exponential
// backoff, bounded by the hook's deadline, and slow down every call to the same target while EC2 is
// throttling (adaptive), so that each retry is in the log and no retry outlives the hook.
import { readFile } from 'node:fs/promises'
import { MccsError } from '../../errors.js'
import type { CallInfo, CapabilityMethod, CapabilityProvider } from '../capabilities.js'
import type { Logger } from '../../../sdk/src/types.js'
import { AwsSettingsFile, DEFAULT_CACHE_TTL_MS, resolveTarget, targetKey, type AwsFileSettings, type AwsTarget } from './aws-config.js'
import { filesStamp, sharedFiles } from './aws-files.js'
import { DescribeCache, type FetchCtx } from './aws-cache.js'

const ACTION_RE = /^[A-Z][A-Za-z0-9]{1,63}$/
/** EC2 error codes that mean "slow down, try again". */
const THROTTLE = new Set([
  'RequestLimitExceeded',
  'Throttling',
  'ThrottlingException',
  'RequestThrottled',
  'RequestThrottledException',
  'TooManyRequestsException',
  'SlowDown',
])
const BACKOFF_BASE_MS = 100
const BACKOFF_CAP_MS = 4000
/** Network failures (refused, reset) are retried this often; throttling until the deadline. */
const NETWORK_ATTEMPTS = 3
/** Kept between the last retry and the hook's deadline, so the plugin can still answer. */
const DEADLINE_MARGIN_MS = 150

type Sdk = typeof import('@aws-sdk/client-ec2')
interface Client {
  send(cmd: unknown, o: { abortSignal: AbortSignal }): Promise<Record<string, unknown>>
}

export interface AwsEc2Options {
  /** <home>/config/aws.json */
  settingsFile: string
  /** Settings to use instead of the file (the console's check of settings not saved yet). */
  fixed?: AwsFileSettings
  /** Tests: replaces the random jitter (0..1). */
  random?: () => number
}

export interface AwsEc2Provider extends CapabilityProvider {
  /** API calls made (not served from the cache), by action: what the bench and tests count. */
  apiCalls(): Record<string, number>
  /** Retries made after throttling or 5xx answers. */
  retries(): number
  /** Answers that were throttling errors (each, retried or not). */
  throttles(): number
  cache: DescribeCache
}

const argsError = (field: string, reason: string) => new MccsError('MCCS_ERR_CAPABILITY_ARGS', reason, { field: `aws.ec2.${field}` })

function checkAction(v: unknown, method: string): string {
  if (typeof v !== 'string' || !ACTION_RE.test(v))
    throw argsError(`${method}: action`, 'must be an EC2 action name like DescribeRouteTables')
  return v
}
function checkParams(v: unknown, method: string): Record<string, unknown> {
  if (v === undefined || v === null) return {}
  if (typeof v !== 'object' || Array.isArray(v)) throw argsError(`${method}: params`, 'must be an object of EC2 parameters')
  if ('DryRun' in v) throw argsError(`${method}: params.DryRun`, 'use aws.ec2.dryRun() to check a permission')
  return v as Record<string, unknown>
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal.aborted) return reject(new MccsError('MCCS_ERR_CANCELLED', 'hook cancelled'))
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    const onAbort = () => {
      clearTimeout(t)
      reject(new MccsError('MCCS_ERR_CANCELLED', 'hook cancelled'))
    }
    signal.addEventListener('abort', onAbort, { once: true })
  })

/** What the plugin gets: the SDK's output without its metadata, as plain JSON. */
const plain = (out: Record<string, unknown>): Record<string, unknown> => {
  const { $metadata: _m, ...rest } = out
  return JSON.parse(JSON.stringify(rest)) as Record<string, unknown>
}

export function awsEc2Provider(opts: AwsEc2Options): AwsEc2Provider {
  const file = new AwsSettingsFile(opts.settingsFile)
  const random = opts.random ?? Math.random
  let sdk: Sdk | undefined
  let ttl = DEFAULT_CACHE_TTL_MS
  const clients = new Map<string, Client>()
  /** Adaptive slow-down: no call to a target before this time while it throttles. */
  const notBefore = new Map<string, number>()
  const cache = new DescribeCache(() => ttl)
  const made = new Map<string, number>()
  let retries = 0
  let throttles = 0

  async function target(call: CallInfo): Promise<AwsTarget> {
    const s = opts.fixed ?? (await file.load())
    ttl = s.cacheTtlMs ?? DEFAULT_CACHE_TTL_MS
    return resolveTarget(s, call.attrs, call.resource)
  }

  async function client(t: AwsTarget): Promise<Client> {
    // A profile's keys are read once per client: a change of the shared files (the console's "Add AWS CLI
    // Profile") makes a new client, so new keys are in force at the next call without a restart.
    const key = `${targetKey(t)}|${t.profile ? await filesStamp() : ''}`
    const have = clients.get(key)
    if (have) return have
    for (const k of clients.keys()) if (k.startsWith(`${targetKey(t)}|`)) clients.delete(k)
    sdk ??= await import('@aws-sdk/client-ec2')
    const creds = await import('@aws-sdk/credential-providers')
    const c = new sdk.EC2Client({
      region: t.region,
      ...(t.endpoint ? { endpoint: t.endpoint } : {}),
      // A profile of the shared files (AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE honoured), else the
      // instance role over IMDSv2. Credentials stay inside the SDK: never in a log line or a result.
      credentials: t.profile
        ? creds.fromIni({ profile: t.profile, ignoreCache: true })
        : creds.fromInstanceMetadata({ timeout: 1000, maxRetries: 1 }),
      maxAttempts: 1,
    }) as unknown as Client
    clients.set(key, c)
    return c
  }

  /** The input parameter names of an action from the SDK's model (undefined if the model is not found). */
  function inputMembers(action: string): string[] | undefined {
    const schema = (sdk as unknown as Record<string, unknown>)[`${action}Request$`]
    const m = Array.isArray(schema) ? schema[4] : undefined
    return Array.isArray(m) && m.every((x) => typeof x === 'string') ? (m as string[]) : undefined
  }

  /** One logical call: attempts with backoff until it succeeds, fails for good, or the deadline comes. */
  async function send(
    t: AwsTarget,
    action: string,
    params: Record<string, unknown>,
    x: FetchCtx & { signal?: AbortSignal },
  ): Promise<Record<string, unknown>> {
    const key = targetKey(t)
    const c = await client(t)
    const Cmd = (sdk as unknown as Record<string, new (p: unknown) => unknown>)[`${action}Command`]
    if (typeof Cmd !== 'function') throw argsError('action', `'${action}' is not an EC2 action`)
    // The SDK drops parameters its model does not know; a misspelt one must not pass silently.
    const members = inputMembers(action)
    if (members)
      for (const k of Object.keys(params))
        if (!members.includes(k)) throw argsError(`params.${k}`, `is not a parameter of ${action} (${members.join(', ')})`)
    const where = { region: t.region, ...(t.endpoint ? { endpoint: t.endpoint } : {}), profile: t.profile ?? 'instance-role' }
    const signal = x.signal ?? new AbortController().signal
    for (let attempt = 1; ; attempt++) {
      const wait = (notBefore.get(key) ?? 0) - Date.now()
      if (wait > 0) {
        if (Date.now() + wait > x.deadline - DEADLINE_MARGIN_MS) throw throttled(action, attempt - 1, 'the target is throttling')
        await sleep(wait, signal)
      }
      const room = x.deadline - Date.now() - DEADLINE_MARGIN_MS / 2
      if (room <= 0)
        throw new MccsError('MCCS_ERR_AWS_UNREACHABLE', `EC2 ${action}: no time left before the hook's deadline`, { field: 'deadline' })
      const t0 = performance.now()
      made.set(action, (made.get(action) ?? 0) + 1)
      try {
        const out = await c.send(new Cmd(params), { abortSignal: AbortSignal.any([signal, AbortSignal.timeout(room)]) })
        const ms = Math.round(performance.now() - t0)
        const meta = out.$metadata as { requestId?: string } | undefined
        x.log.info(`aws ec2 ${action}: ok in ${ms} ms${attempt > 1 ? ` (attempt ${attempt})` : ''}`, {
          action,
          ms,
          attempt,
          ...(x.shared > 1 ? { sharedBy: x.shared } : {}),
          ...(meta?.requestId ? { requestId: meta.requestId } : {}),
          ...where,
        })
        return plain(out)
      } catch (e) {
        const ms = Math.round(performance.now() - t0)
        if (signal.aborted) throw new MccsError('MCCS_ERR_CANCELLED', `EC2 ${action}: hook cancelled`)
        const err = e as Error & { Code?: string; code?: string; $metadata?: { httpStatusCode?: number }; $fault?: string }
        const status = err.$metadata?.httpStatusCode
        const awsCode = err.Code ?? (status ? err.name : undefined)
        const isThrottle = awsCode !== undefined && THROTTLE.has(awsCode)
        if (isThrottle) throttles++
        const is5xx = status !== undefined && status >= 500
        const isNetwork = status === undefined && !awsCode
        if (awsCode === 'DryRunOperation') {
          x.log.info(`aws ec2 ${action} (dry run): allowed in ${ms} ms`, { action, ms, attempt, dryRun: true, ...where })
          throw Object.assign(new MccsError('MCCS_ERR_AWS_API', `EC2 ${action}: DryRunOperation`, { field: 'DryRunOperation' }), {
            awsMessage: err.message,
          })
        }
        const what = awsCode ?? (err.name === 'TimeoutError' || err.name === 'AbortError' ? 'timeout' : (err.code ?? err.name))
        const retry = isThrottle || is5xx || (isNetwork && attempt < NETWORK_ATTEMPTS)
        if (!retry) {
          x.log.warn(`aws ec2 ${action}: ${what} in ${ms} ms`, { action, ms, attempt, error: what, ...where })
          if (isNetwork) throw new MccsError('MCCS_ERR_AWS_UNREACHABLE', `EC2 ${action}: ${what}: ${err.message}`, { field: what })
          throw Object.assign(new MccsError('MCCS_ERR_AWS_API', `EC2 ${action}: ${awsCode}: ${err.message}`, { field: awsCode! }), {
            awsMessage: err.message,
          })
        }
        // Full jitter: spreads the retries of many resources (and nodes) instead of synchronising them.
        const delay = Math.max(20, Math.round(random() * Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** (attempt - 1))))
        if (Date.now() + delay > x.deadline - DEADLINE_MARGIN_MS) {
          x.log.warn(`aws ec2 ${action}: ${what} in ${ms} ms; no retry (deadline)`, { action, ms, attempt, error: what, ...where })
          if (isThrottle || is5xx) throw throttled(action, attempt, what)
          throw new MccsError('MCCS_ERR_AWS_UNREACHABLE', `EC2 ${action}: ${what}`, { field: what })
        }
        if (isThrottle) notBefore.set(key, Math.max(notBefore.get(key) ?? 0, Date.now() + delay / 2))
        retries++
        x.log.warn(`aws ec2 ${action}: ${what} in ${ms} ms; retry ${attempt} in ${delay} ms`, {
          action,
          ms,
          attempt,
          error: what,
          retryInMs: delay,
          ...where,
        })
        await sleep(delay, signal)
      }
    }
  }

  const throttled = (action: string, attempts: number, what: string) =>
    new MccsError('MCCS_ERR_AWS_THROTTLED', `EC2 ${action}: still ${what} after ${attempts} attempt(s) when the deadline came`, {
      field: 'RequestLimitExceeded',
    })

  const needs =
    (method: string): CapabilityMethod['authorize'] =>
    (args, call) => {
      const a = args[0]
      if (typeof a !== 'string' || !ACTION_RE.test(a)) return null // run() rejects it with the field named
      return call.permissions.has(`aws.ec2:${a}`) ? null : `aws.ec2:${a}`
    }
  const ctxOf = (call: CallInfo): FetchCtx & { signal: AbortSignal } => ({
    deadline: call.deadline,
    log: call.log,
    shared: 1,
    signal: call.signal,
  })

  return {
    name: 'aws.ec2',
    cache,
    apiCalls: () => Object.fromEntries(made),
    retries: () => retries,
    throttles: () => throttles,
    methods: {
      call: {
        authorize: needs('call'),
        run: async ([a, p], call) => {
          const action = checkAction(a, 'call'),
            params = checkParams(p, 'call')
          const t = await target(call)
          try {
            return await send(t, action, params, ctxOf(call))
          } finally {
            if (!action.startsWith('Describe')) cache.invalidate(targetKey(t))
          }
        },
      },
      describe: {
        authorize: needs('describe'),
        run: async ([a, p, o], call) => {
          const action = checkAction(a, 'describe'),
            params = checkParams(p, 'describe')
          if (!action.startsWith('Describe'))
            throw argsError('describe: action', `only Describe* actions are cached; use aws.ec2.call('${action}')`)
          let maxAgeMs: number | undefined
          if (o !== undefined && o !== null) {
            const m = (o as { maxAgeMs?: unknown }).maxAgeMs
            if (typeof o !== 'object' || (m !== undefined && (typeof m !== 'number' || m < 0 || m > 10_000)))
              throw argsError('describe: opts.maxAgeMs', 'must be a number 0..10000')
            maxAgeMs = m as number | undefined
          }
          const t = await target(call)
          // A shared fetch serves several hooks: it is bounded by the latest deadline, not by one hook's
          // signal; each caller still stops waiting at its own deadline.
          const shared = cache.describe(
            targetKey(t),
            action,
            params,
            { ...(maxAgeMs !== undefined ? { maxAgeMs } : {}), deadline: call.deadline, log: call.log },
            (params, x) => send(t, action, params, x),
          )
          return await raceSignal(shared, call.signal)
        },
      },
      dryRun: {
        authorize: needs('dryRun'),
        run: async ([a, p], call) => {
          const action = checkAction(a, 'dryRun'),
            params = checkParams(p, 'dryRun')
          const t = await target(call)
          sdk ??= await import('@aws-sdk/client-ec2')
          // Some actions (AssignPrivateIpAddresses, UnassignPrivateIpAddresses) have no DryRun: the SDK would
          // drop the flag and really make the call. Those are reported as not checkable, never sent.
          if (!inputMembers(action)?.includes('DryRun')) {
            return {
              action,
              allowed: false,
              checked: false,
              code: 'DryRunUnsupported',
              message: `EC2 has no DryRun for ${action}: its permission can only be seen when it is used`,
            }
          }
          try {
            await send(t, action, { ...params, DryRun: true }, ctxOf(call))
            // EC2 never carries out a dry run; an endpoint that did is reported, not trusted.
            return {
              action,
              allowed: false,
              checked: true,
              code: 'DryRunIgnored',
              message: 'the endpoint carried out the call instead of a dry run',
            }
          } catch (e) {
            const err = e as MccsError & { awsMessage?: string }
            if (err.code !== 'MCCS_ERR_AWS_API') throw e
            return {
              action,
              allowed: err.field === 'DryRunOperation',
              checked: true,
              code: err.field ?? 'unknown',
              ...(err.awsMessage ? { message: err.awsMessage } : {}),
            }
          }
        },
      },
      profiles: {
        authorize: (_a, call) => (call.permissions.withPrefix('aws.ec2:').length ? null : 'aws.ec2:<Action>'),
        run: async () => listProfiles(),
      },
      settings: {
        authorize: (_a, call) => (call.permissions.withPrefix('aws.ec2:').length ? null : 'aws.ec2:<Action>'),
        run: async (_a, call) => {
          const t = await target(call)
          return { profile: t.profile ?? 'instance-role', region: t.region, ...(t.endpoint ? { endpoint: t.endpoint } : {}) }
        },
      },
    },
  }
}

/** Profile names of the shared files the SDK reads (section names only: no keys leave this function). */
async function listProfiles(): Promise<string[]> {
  const shared = sharedFiles()
  const files = [
    [shared.config, true],
    [shared.credentials, false],
  ] as const
  const names = new Set<string>()
  for (const [f, isConfig] of files) {
    const text = await readFile(f, 'utf8').catch(() => '')
    for (const m of text.matchAll(/^\s*\[\s*([^\]]+?)\s*\]/gm)) {
      const n = m[1]!
      if (isConfig) {
        if (n === 'default') names.add(n)
        else if (n.startsWith('profile ')) names.add(n.slice(8).trim())
      } else names.add(n)
    }
  }
  return [...names].sort()
}

function raceSignal<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new MccsError('MCCS_ERR_CANCELLED', 'hook cancelled'))
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(new MccsError('MCCS_ERR_CANCELLED', 'hook cancelled'))
    signal.addEventListener('abort', onAbort, { once: true })
    p.then(
      (v) => {
        signal.removeEventListener('abort', onAbort)
        resolve(v)
      },
      (e) => {
        signal.removeEventListener('abort', onAbort)
        reject(e)
      },
    )
  })
}

export type { Logger }
