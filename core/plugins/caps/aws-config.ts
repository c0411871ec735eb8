// Per-node AWS settings for the aws.ec2 capability: <home>/config/aws.json
//   { "profile": "mccs", "region": "eu-west-1", "endpoint": "https://ec2.eu-west-1.amazonaws.com", "cacheTtlMs": 1500 }
// profile: a profile of the agent's shared config/credentials files (AWS_CONFIG_FILE and
//   AWS_SHARED_CREDENTIALS_FILE are honoured); absent = the instance role through IMDSv2 (no keys on disk).
// region: required here or in every resource's `region` attribute.
// endpoint: an EC2 endpoint override (a VPC endpoint, the test endpoint `mccs ec2-sim`).
// A resource's `profile` / `region` attributes override the file. Every value is checked at the edge and
// a bad one is refused with MCCS_ERR_AWS_CONFIG naming the file or attribute and the field.
import { readFile, stat } from 'node:fs/promises'
import { MccsError } from '../../errors.js'

export interface AwsFileSettings {
  profile?: string
  region?: string
  endpoint?: string
  /** How long describe results are shared between this node's resources (0..10000 ms, default 1500). */
  cacheTtlMs?: number
}

/** What one call uses: where it goes and with which identity. */
export interface AwsTarget {
  /** A profile name, or undefined for the instance role. */
  profile?: string
  region: string
  endpoint?: string
}

export const PROFILE_RE = /^[A-Za-z0-9_.+@-]{1,64}$/
export const REGION_RE = /^[a-z]{2}(-[a-z0-9]+){1,3}-\d{1,2}$/
export const DEFAULT_CACHE_TTL_MS = 1500
const FIELDS = new Set(['profile', 'region', 'endpoint', 'cacheTtlMs'])

const bad = (where: string, field: string, reason: string) => new MccsError('MCCS_ERR_AWS_CONFIG', reason, { subject: where, field })

export function checkEndpoint(v: unknown, where: string, field = 'endpoint'): string {
  if (typeof v !== 'string') throw bad(where, field, 'must be an http(s) URL string')
  let u: URL
  try {
    u = new URL(v)
  } catch {
    throw bad(where, field, `'${v}' is not a URL`)
  }
  if (u.protocol !== 'https:' && u.protocol !== 'http:') throw bad(where, field, 'must be an http:// or https:// URL')
  if (u.username || u.password) throw bad(where, field, 'must not carry credentials')
  return v
}

/** Checks the content of aws.json (already parsed). */
export function checkFileSettings(v: unknown, where: string): AwsFileSettings {
  if (typeof v !== 'object' || v === null || Array.isArray(v))
    throw bad(where, '/', 'must be a JSON object { profile?, region, endpoint? }')
  const o = v as Record<string, unknown>
  for (const k of Object.keys(o))
    if (!FIELDS.has(k)) throw bad(where, `/${k}`, 'is not an aws.json field (profile, region, endpoint, cacheTtlMs)')
  const out: AwsFileSettings = {}
  if (o.profile !== undefined) {
    if (typeof o.profile !== 'string' || !PROFILE_RE.test(o.profile))
      throw bad(where, '/profile', 'must be a profile name (letters, digits, _ . + @ -; 1-64)')
    out.profile = o.profile
  }
  if (o.region !== undefined) {
    if (typeof o.region !== 'string' || !REGION_RE.test(o.region))
      throw bad(where, '/region', `must be an AWS region like eu-west-1 (got ${JSON.stringify(o.region)})`)
    out.region = o.region
  }
  if (o.endpoint !== undefined) out.endpoint = checkEndpoint(o.endpoint, where, '/endpoint')
  if (o.cacheTtlMs !== undefined) {
    if (typeof o.cacheTtlMs !== 'number' || !Number.isInteger(o.cacheTtlMs) || o.cacheTtlMs < 0 || o.cacheTtlMs > 10_000) {
      throw bad(where, '/cacheTtlMs', 'must be an integer 0..10000')
    }
    out.cacheTtlMs = o.cacheTtlMs
  }
  return out
}

/** Reads aws.json again only when its modification time changes; absent = {} (instance role, no region). */
export class AwsSettingsFile {
  private cached: { mtimeMs: number; value: AwsFileSettings } | undefined
  constructor(readonly file: string) {}

  async load(): Promise<AwsFileSettings> {
    let mtimeMs: number
    try {
      mtimeMs = (await stat(this.file)).mtimeMs
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {}
      throw bad(this.file, '/', `cannot be read: ${(e as Error).message}`)
    }
    if (this.cached?.mtimeMs === mtimeMs) return this.cached.value
    let parsed: unknown
    try {
      parsed = JSON.parse(await readFile(this.file, 'utf8'))
    } catch (e) {
      throw bad(this.file, '/', `is not valid JSON: ${(e as Error).message}`)
    }
    const value = checkFileSettings(parsed, this.file)
    this.cached = { mtimeMs, value }
    return value
  }
}

/** The target of one call: the resource's `profile`/`region` attributes over the node's file. */
export function resolveTarget(file: AwsFileSettings, attrs: Record<string, unknown>, resource: string): AwsTarget {
  const where = `resource '${resource}'`
  let profile = file.profile
  if (attrs.profile !== undefined && attrs.profile !== '') {
    if (typeof attrs.profile !== 'string' || !PROFILE_RE.test(attrs.profile))
      throw bad(where, 'profile', 'must be a profile name (letters, digits, _ . + @ -; 1-64)')
    profile = attrs.profile
  }
  let region = file.region
  if (attrs.region !== undefined && attrs.region !== '') {
    if (typeof attrs.region !== 'string' || !REGION_RE.test(attrs.region))
      throw bad(where, 'region', `must be an AWS region like eu-west-1 (got ${JSON.stringify(attrs.region)})`)
    region = attrs.region
  }
  if (!region) throw bad(where, 'region', 'no region: set "region" in config/aws.json or the resource attribute region')
  return { ...(profile ? { profile } : {}), region, ...(file.endpoint ? { endpoint: file.endpoint } : {}) }
}

/** A stable key for clients and caches: calls with the same key share both. */
export const targetKey = (t: AwsTarget): string => `${t.profile ?? '(instance-role)'}|${t.region}|${t.endpoint ?? ''}`
