// Who a plugin may run managed processes as: the `procUsers` list of its plugin.json, checked by the
// `proc` capability on every start, after the user and group are resolved and before anything runs.
//
//   "root"    uid 0, gid 0, or a group the user is not a member of (a group such as `disk` or
//             `docker` is root in all but name): only with "root" declared, never through "*".
//   "*"       any other user.
//   "<name>"  that user (not root).
// Absent or empty: the plugin may stop and watch processes but start none.

/** One entry of procUsers: "*" or a user name (the same shape as a process spec's `user`). */
export const PROC_USER_PATTERN = '^(\\*|[A-Za-z0-9_][A-Za-z0-9_.-]{0,31}\\$?)$'

/** The identity a process would get, as ProcManager resolved it. */
export interface ProcTarget {
  user: string
  uid: number
  gid: number
  /** The group's name when one was asked for. */
  group?: string
  /** false when an explicit group is neither the user's primary group nor one it is a member of. */
  groupIsUsers: boolean
}

/** How the target reads in a refusal: `user 'nobody' (uid 65534) with group 'disk' (gid 6)`. */
export function describeTarget(t: ProcTarget): string {
  const g = t.group !== undefined ? ` with group '${t.group}' (gid ${t.gid}${t.groupIsUsers ? '' : ", not one of the user's groups"})` : ''
  return `user '${t.user}' (uid ${t.uid})${g}`
}

/** True when the target has root's powers (or can get them through its group). */
export const isPrivileged = (t: ProcTarget): boolean => t.uid === 0 || t.gid === 0 || !t.groupIsUsers

/** null when `users` (a plugin's procUsers) allows the target; otherwise why not, for the error. */
export function procUserRefusal(users: readonly string[], t: ProcTarget): string | null {
  const who = describeTarget(t)
  if (users.length === 0) return `plugin.json declares no procUsers, so this plugin may start no process (asked: ${who})`
  if (isPrivileged(t)) {
    return users.includes('root')
      ? null
      : `starting a process as ${who} needs "root" in plugin.json's procUsers (declared: ${users.join(', ')})`
  }
  return users.includes('*') || users.includes(t.user)
    ? null
    : `starting a process as ${who} needs "${t.user}" or "*" in plugin.json's procUsers (declared: ${users.join(', ')})`
}
