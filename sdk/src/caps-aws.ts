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
  | 'DescribeVpcs' | 'DescribeSubnets' | 'DescribeRouteTables' | 'DescribeNetworkInterfaces' | 'DescribeAddresses'
  | 'DescribeInstances' | 'CreateRoute' | 'ReplaceRoute' | 'DeleteRoute' | 'ModifyNetworkInterfaceAttribute'
  | 'AssignPrivateIpAddresses' | 'UnassignPrivateIpAddresses' | 'AssociateAddress' | 'DisassociateAddress'
  | 'StopInstances' | 'StartInstances'
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

export interface AwsCallError extends Error { code: AwsErrorCode | string; field?: string }

export interface DryRunResult {
  action: string
  /** true: the credentials may make this call (EC2 answered DryRunOperation). */
  allowed: boolean
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
}

export interface AwsCapabilities {
  ec2: AwsEc2Capability
}
