// Permission strings a manifest may declare. Capabilities are deny-by-default: a call needs the
// exact permission (or a declared pattern that covers it), else MCCS_ERR_PERMISSION_DENIED names it.
//
//   exec:/usr/sbin/ip        run that absolute binary
//   exec:scripts/*           run operator scripts inside the install's script/ folder
//   exec:ocf/*               run OCF resource agents in /usr/lib/ocf/resource.d (only `meta-data` in discover/validate)
//   exec:attr:<field>        run the binary the operator configured in attribute <field> (string or argv array)
//   proc                     managed processes of this resource
//   state                    the resource's small JSON store
//   net:read | net:write     network links/addresses (issue: network types)
//   aws.ec2:<Action>         one EC2 API action (issue: AWS types)
//   mirror                   the mirror-disk replicator's control channel
export const PERMISSION_PATTERN =
  '^(exec:(/[^\\s*]+|scripts/\\*|ocf/\\*|attr:[A-Za-z][A-Za-z0-9_]*)|proc|state|net:(read|write)|aws\\.ec2:[A-Z][A-Za-z0-9]+|mirror)$'

const permissionRe = new RegExp(PERMISSION_PATTERN)
export const isValidPermission = (p: string): boolean => permissionRe.test(p)

export class PermissionSet {
  private readonly set: ReadonlySet<string>
  /** `procUsers` of the manifest: who `proc.start` may run as (core/plugins/caps/proc-users.ts). */
  constructor(
    readonly list: readonly string[],
    readonly procUsers: readonly string[] = [],
  ) {
    this.set = new Set(list)
  }
  has(p: string): boolean {
    return this.set.has(p)
  }
  /** Declared `exec:attr:<field>` fields. */
  execAttrFields(): string[] {
    return this.list.filter((p) => p.startsWith('exec:attr:')).map((p) => p.slice('exec:attr:'.length))
  }
  /** The permissions of one kind (e.g. all `aws.ec2:*` actions), used to print IAM policies. */
  withPrefix(prefix: string): string[] {
    return this.list.filter((p) => p.startsWith(prefix))
  }
}
