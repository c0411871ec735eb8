// One problem found in a configuration file, and how it is shown. Validation collects every issue
// instead of stopping at the first, so an operator fixes a file in one pass.

import { MccsError, type ErrorCode } from '../errors.js'

export interface ConfigIssue {
  /** The file concerned (as given by the caller: a path or a name such as "main.json"). */
  file: string
  /** JSON pointer to the value, or to where a missing value should be; '' is the whole document. */
  path: string
  code: ErrorCode
  reason: string
  /** Position in the file text, for syntax errors and duplicate keys. */
  line?: number
  column?: number
  /** For a schema version this agent does not read (MCCS_ERR_CONFIG_VERSION): the file's, and the highest it reads. */
  found?: number
  supported?: number
}

/** `file: /json/path: reason (CODE)`, the line format of `mccs config validate`. */
export function formatIssue(i: ConfigIssue): string {
  return `${i.file}: ${i.path || '/'}: ${i.reason} (${i.code})`
}

export function formatIssues(issues: readonly ConfigIssue[]): string {
  return issues.map(formatIssue).join('\n')
}

/** The error thrown when a load or a commit is refused; the issues travel in `data.issues`. */
export function invalidConfigError(subject: string, issues: ConfigIssue[]): MccsError {
  // A newer file is not an invalid one: say that first, with its own code (the other issues are not looked for).
  const newer = issues.find((i) => i.code === 'MCCS_ERR_CONFIG_VERSION')
  if (newer) {
    return new MccsError('MCCS_ERR_CONFIG_VERSION', newer.reason, {
      subject: newer.file,
      field: newer.path,
      data: { issues, version: newer.found, supported: newer.supported },
    })
  }
  const first = issues[0]
  const more = issues.length > 1 ? ` (and ${issues.length - 1} more)` : ''
  return new MccsError('MCCS_ERR_CONFIG_INVALID', first ? `${first.reason} [${first.code}]${more}` : 'invalid', {
    subject,
    ...(first ? { field: `${first.file}#${first.path}` } : {}),
    data: { issues },
  })
}

/** The issue list carried by an error from this module, or undefined. */
export function issuesOf(e: unknown): ConfigIssue[] | undefined {
  if (e instanceof MccsError && Array.isArray(e.data?.['issues'])) return e.data['issues'] as ConfigIssue[]
  return undefined
}
