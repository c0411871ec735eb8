// Answers the AWS resource types share: a failed EC2 call as a hook answer, and the wizard's permission
// check (DryRun per action) as field diagnostics. Imported as @mccs/sdk/aws-answers (not in the barrel).
import { failed, diag, ok, unknown } from './answers.js'
import type { Diagnostic, HookAnswer, HookContext } from './types.js'
import {
  cannotKnow,
  checkPermissions,
  deniedProblems,
  ec2ErrorCode,
  eniChoices,
  errorText,
  profileChoices,
  type Ec2Action,
  type Ec2Params,
} from './caps-aws.js'

/** A failed EC2 call: a missing permission, an unknown id or a bad parameter will not pass by retrying. */
export function ec2Fault(what: string, e: unknown): HookAnswer {
  const code = ec2ErrorCode(e)
  const bad =
    code === 'UnauthorizedOperation' ||
    code?.endsWith('NotFound') ||
    code === 'InvalidParameterValue' ||
    (e as { code?: string })?.code === 'MCCS_ERR_AWS_CONFIG'
  return failed(`${what}: ${errorText(e)}`, { recoverable: !bad })
}

/** DryRun of every action a resource needs on this node: a diagnostic per denied one (and one log line). */
export async function permissionDiagnostics(
  ctx: HookContext,
  checks: Array<{ action: Ec2Action; params: Ec2Params }>,
): Promise<Diagnostic[]> {
  const s = await ctx.aws.ec2.settings()
  const results = await checkPermissions(ctx.aws.ec2, checks)
  ctx.log.info(
    `permissions of ${s.profile}: ${results.map((r) => `${r.action} ${r.allowed ? 'allowed' : `denied (${r.code})`}`).join(', ')}`,
  )
  return deniedProblems(ctx.node, s.profile, results).map((p) => diag(p.path, p.summary, p.detail, p.severity))
}

/** Discover for the fields every AWS type has (the node's ENIs, the AWS profiles); anything else is not
 *  discoverable. A type asks this after its own fields. */
export async function discoverCommon(ctx: HookContext, field: string, partial: Record<string, unknown>): Promise<HookAnswer> {
  try {
    if (field === 'eni')
      return ok(undefined, {
        choices: await eniChoices(ctx.aws.ec2, typeof partial.instanceId === 'string' ? partial.instanceId : undefined),
      })
    if (field === 'profile') return ok(undefined, { choices: await profileChoices(ctx.aws.ec2) })
    return failed(`nothing to discover for '${field}'`, { recoverable: false })
  } catch (e) {
    return discoverFault(e)
  }
}

/** A discover that could not ask EC2: unknown when it may pass (throttled, unreachable), else failed. */
export const discoverFault = (e: unknown): HookAnswer => (cannotKnow(e) ? unknown(errorText(e)) : failed(errorText(e)))
