// The `aws.ec2` capability: EC2 API calls made by the agent for the plugin (core/plugins/caps/aws-ec2.ts).
// Plugins see plain JSON: parameters and results are the EC2 API's shapes as the AWS SDK for JavaScript
// v3 spells them (PascalCase: { RouteTableIds: [...] } -> { RouteTables: [...] }), without SDK classes.
//
//   const r = await ctx.aws.ec2.describe('DescribeRouteTables', { RouteTableIds: ['rtb-1'] })
//   await ctx.aws.ec2.call('ReplaceRoute', { RouteTableId: 'rtb-1', DestinationCidrBlock: '10.9.9.9/32', NetworkInterfaceId: 'eni-1' })
//   const d = await ctx.aws.ec2.dryRun('StopInstances', { InstanceIds: ['i-1'], Force: true })   // d.allowed
//
// Each action needs the manifest permission `aws.ec2:<Action>`. Credentials, region and endpoint come from
// the node's <home>/config/aws.json, overridden per resource by the attributes `profile` and `region`.
// Throttled calls are retried with jittered backoff until the hook's deadline. A failed call throws an
// error whose `code` is one of AwsErrorCode and whose `field` is EC2's own error code
// (e.g. 'InvalidRouteTableID.NotFound', 'UnauthorizedOperation', 'RequestLimitExceeded').

/** EC2 actions the built-in AWS types use (any `^[A-Z][A-Za-z0-9]+$` action may be called if permitted). */
export type Ec2Action =
  | 'DescribeVpcs'
  | 'DescribeSubnets'
  | 'DescribeRouteTables'
  | 'DescribeNetworkInterfaces'
  | 'DescribeAddresses'
  | 'DescribeInstances'
  | 'CreateRoute'
  | 'ReplaceRoute'
  | 'DeleteRoute'
  | 'ModifyNetworkInterfaceAttribute'
  | 'AssignPrivateIpAddresses'
  | 'UnassignPrivateIpAddresses'
  | 'AssociateAddress'
  | 'DisassociateAddress'
  | 'StopInstances'
  | 'StartInstances'
  | (string & {})

/** Plain JSON (what crosses into the sandbox). */
export type Json = null | boolean | number | string | Json[] | { [k: string]: Json }
export type Ec2Params = Record<string, unknown>
export type Ec2Result = Record<string, any>

/** `code` of the errors aws.ec2 throws (besides MCCS_ERR_PERMISSION_DENIED / MCCS_ERR_CAPABILITY_ARGS). */
export type AwsErrorCode =
  /** EC2 answered with an error (`field` = EC2's code, e.g. InvalidParameterValue, UnauthorizedOperation). */
  | 'MCCS_ERR_AWS_API'
  /** Still throttled (or EC2 still failing with 5xx) when the deadline came: the truth is unknown. */
  | 'MCCS_ERR_AWS_THROTTLED'
  /** The endpoint could not be reached or did not answer in time. */
  | 'MCCS_ERR_AWS_UNREACHABLE'
  /** No usable settings or credentials (aws.json, profile, instance role). */
  | 'MCCS_ERR_AWS_CONFIG'

export interface AwsCallError extends Error {
  code: AwsErrorCode | string
  field?: string
}

export interface DryRunResult {
  action: string
  /** true: the credentials may make this call (EC2 answered DryRunOperation). */
  allowed: boolean
  /** false: EC2 has no DryRun for this action (e.g. AssignPrivateIpAddresses); nothing was sent. */
  checked: boolean
  /** EC2's answer: DryRunOperation, UnauthorizedOperation, or another error code. */
  code: string
  message?: string
}

export interface AwsEc2Capability {
  /** One EC2 call, never cached. Mutating calls also drop this node's describe cache. */
  call(action: Ec2Action, params?: Ec2Params): Promise<Ec2Result>
  /** A Describe* call through the node's shared cache: identical or ID-list calls from all of this
   *  node's AWS resources within the cache window (default 1.5 s, `maxAgeMs` 0..10000) are served by one
   *  API call. Results are filtered back to the IDs this call asked for. */
  describe(action: Ec2Action, params?: Ec2Params, opts?: { maxAgeMs?: number }): Promise<Ec2Result>
  /** The call with DryRun=true: reports whether these credentials may make it. */
  dryRun(action: Ec2Action, params?: Ec2Params): Promise<DryRunResult>
  /** Where calls of this resource go (no secrets): profile (or 'instance-role'), region, endpoint. */
  settings(): Promise<{ profile: string; region: string; endpoint?: string }>
  /** Profile names found in the agent's shared config/credentials files (names only, for discover). */
  profiles(): Promise<string[]>
}

export interface AwsCapabilities {
  ec2: AwsEc2Capability
}

// ---------- small pure helpers for AWS plugins (run inside the sandbox) ----------

/** EC2's error code of a failed aws.ec2 call ('InvalidRouteTableID.NotFound'), or undefined. */
export function ec2ErrorCode(e: unknown): string | undefined {
  const x = e as { code?: unknown; field?: unknown } | null
  return x && typeof x.code === 'string' && x.code.startsWith('MCCS_ERR_AWS_') && typeof x.field === 'string' ? x.field : undefined
}

/** True when a failed call says nothing about the resource (throttled, unreachable, cancelled): a monitor
 *  must answer `unknown`, never `notRunning`. */
export function cannotKnow(e: unknown): boolean {
  const c = (e as { code?: unknown } | null)?.code
  return c === 'MCCS_ERR_AWS_THROTTLED' || c === 'MCCS_ERR_AWS_UNREACHABLE' || c === 'MCCS_ERR_CANCELLED'
}

export const errorText = (e: unknown): string => String((e as { message?: unknown } | null)?.message ?? e)

const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/
export const isIpv4 = (s: unknown): s is string => typeof s === 'string' && IPV4.test(s)
export const ipv4ToInt = (ip: string): number => ip.split('.').reduce((a, o) => a * 256 + Number(o), 0)

/** Parses 'a.b.c.d/n'; undefined when it is not an IPv4 CIDR. */
export function parseCidr(cidr: string): { base: number; bits: number; size: number } | undefined {
  const [ip, b] = cidr.split('/')
  const bits = Number(b)
  if (!isIpv4(ip) || !Number.isInteger(bits) || bits < 0 || bits > 32) return undefined
  const size = 2 ** (32 - bits)
  return { base: Math.floor(ipv4ToInt(ip) / size) * size, bits, size }
}

export function inCidr(ip: string, cidr: string): boolean {
  const c = parseCidr(cidr)
  if (!c || !isIpv4(ip)) return false
  const n = ipv4ToInt(ip)
  return n >= c.base && n < c.base + c.size
}

/** The Name tag of an EC2 object ({ Tags: [{ Key: 'Name', Value }] }). */
export const nameTag = (o: { Tags?: Array<{ Key?: string; Value?: string }> } | undefined): string | undefined =>
  o?.Tags?.find((t) => t.Key === 'Name')?.Value

/** DryRun of every action a resource needs; each reported allowed/denied. */
export async function checkPermissions(
  ec2: AwsEc2Capability,
  checks: Array<{ action: Ec2Action; params: Ec2Params }>,
): Promise<DryRunResult[]> {
  return Promise.all(checks.map((c) => ec2.dryRun(c.action, c.params)))
}

// ---------- checks and wizard lists shared by the AWS types ----------

export interface Eni {
  NetworkInterfaceId: string
  SubnetId?: string
  VpcId?: string
  PrivateIpAddress?: string
  SourceDestCheck?: boolean
  PrivateIpAddresses?: Array<{ PrivateIpAddress?: string; Primary?: boolean }>
  Attachment?: { InstanceId?: string }
  TagSet?: Array<{ Key?: string; Value?: string }>
  Description?: string
}

/** Per-node ENIs: each set, no ENI on two nodes, each known to EC2. Returns the diagnostics (as
 *  { path, summary, detail? }) and the ENIs found, by node. */
export async function checkNodeEnis(
  ec2: AwsEc2Capability,
  perNode: Record<string, { eni?: unknown }>,
): Promise<{ problems: Array<{ path: string; summary: string; detail?: string }>; enis: Record<string, Eni> }> {
  const problems: Array<{ path: string; summary: string; detail?: string }> = []
  const enis: Record<string, Eni> = {}
  const owner = new Map<string, string>()
  for (const [node, a] of Object.entries(perNode)) {
    if (typeof a.eni !== 'string' || !/^eni-[0-9a-zA-Z]+$/.test(a.eni)) {
      problems.push({ path: `/nodes/${node}/eni`, summary: 'must be an ENI id like eni-0123abcd' })
      continue
    }
    const first = owner.get(a.eni)
    if (first) {
      problems.push({
        path: `/nodes/${node}/eni`,
        summary: `ENI ${a.eni} is also set for node ${first}`,
        detail: 'each node needs its own network interface',
      })
      continue
    }
    owner.set(a.eni, node)
  }
  await Promise.all(
    [...owner].map(async ([id, node]) => {
      try {
        const r = await ec2.describe('DescribeNetworkInterfaces', { NetworkInterfaceIds: [id] })
        const e = (r.NetworkInterfaces as Eni[] | undefined)?.[0]
        if (e) enis[node] = e
        else problems.push({ path: `/nodes/${node}/eni`, summary: `ENI ${id} does not exist` })
      } catch (err) {
        const code = ec2ErrorCode(err)
        if (code?.endsWith('NotFound')) problems.push({ path: `/nodes/${node}/eni`, summary: `ENI ${id} does not exist (${code})` })
        else throw err
      }
    }),
  )
  return { problems, enis }
}

/** A profile diagnostic for every denied action, naming it; a warning for each that EC2 cannot dry-run. */
export function deniedProblems(
  node: string,
  profile: string,
  results: DryRunResult[],
): Array<{ path: string; summary: string; detail?: string; severity: 'error' | 'warning' }> {
  return results
    .filter((r) => !r.allowed)
    .map((r) => ({
      path: `/nodes/${node}/profile`,
      summary: r.checked
        ? `profile ${profile} may not call ec2:${r.action} (${r.code})`
        : `ec2:${r.action} cannot be checked in advance (EC2 has no DryRun for it)`,
      severity: r.checked ? ('error' as const) : ('warning' as const),
      ...(r.message ? { detail: r.message } : {}),
    }))
}

/** discover: the region's ENIs, labelled with their Name tag, instance and private IP. */
export async function eniChoices(ec2: AwsEc2Capability, instanceId?: string): Promise<Array<{ value: string; label: string }>> {
  const r = await ec2.call(
    'DescribeNetworkInterfaces',
    instanceId ? { Filters: [{ Name: 'attachment.instance-id', Values: [instanceId] }] } : {},
  )
  return ((r.NetworkInterfaces ?? []) as Eni[]).map((e) => ({
    value: e.NetworkInterfaceId,
    label:
      [nameTag({ Tags: e.TagSet }) ?? e.Description, e.Attachment?.InstanceId, e.PrivateIpAddress].filter(Boolean).join(' — ') ||
      e.NetworkInterfaceId,
  }))
}

/** discover: the profiles of the agent's shared AWS files. */
export async function profileChoices(ec2: AwsEc2Capability): Promise<Array<{ value: string }>> {
  return (await ec2.profiles()).map((p) => ({ value: p }))
}
