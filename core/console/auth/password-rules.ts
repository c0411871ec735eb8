// The console's password rules (manual 5.2): at least 12 characters with a lowercase letter, a digit
// and one of the specials ~!@#$%^&*()+. — or at least 14 characters with a lowercase letter and a digit.

export const SPECIALS = '~!@#$%^&*()+.'
export const PASSWORD_RULE =
  `at least 12 characters with a lowercase letter, a digit and one of ${SPECIALS}, ` +
  'or at least 14 characters with a lowercase letter and a digit'
/** Longer inputs are refused before the KDF runs (scrypt of a megabyte is a cheap denial of service). */
export const MAX_PASSWORD_LENGTH = 256

/** null when the password follows the rules, else the rule to show. */
export function passwordRuleViolation(pw: string): string | null {
  if (pw.length > MAX_PASSWORD_LENGTH) return `at most ${MAX_PASSWORD_LENGTH} characters; ${PASSWORD_RULE}`
  const lower = /[a-z]/.test(pw)
  const digit = /[0-9]/.test(pw)
  const special = [...pw].some((c) => SPECIALS.includes(c))
  const len = [...pw].length
  if (len >= 14 && lower && digit) return null
  if (len >= 12 && lower && digit && special) return null
  return PASSWORD_RULE
}
