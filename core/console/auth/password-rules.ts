// The console's password rules (manual 5.2): at least 12 characters with a lowercase letter, a digit
// and one of the specials ~!@#$%^&*()+. — or at least 14 characters with a lowercase letter and a digit;
// and never the user id inside it (issue 18). One list, checked by the server and shown live by the
// console's checklist (ui/login.ts imports this file: no Node built-ins here).

export const SPECIALS = '~!@#$%^&*()+.'
export const PASSWORD_RULE =
  `at least 12 characters with a lowercase letter, a digit and one of ${SPECIALS}, ` +
  'or at least 14 characters with a lowercase letter and a digit, without the user id'
/** Longer inputs are refused before the KDF runs (scrypt of a megabyte is a cheap denial of service). */
export const MAX_PASSWORD_LENGTH = 256

/** The rules one by one, in the order the checklist shows them. */
export const PASSWORD_RULE_IDS = ['lower', 'digit', 'length', 'noUser', 'max'] as const
export type PasswordRuleId = (typeof PASSWORD_RULE_IDS)[number]

/** What each rule says when it fails (the API's message; the console shows its own locale's text). */
export const RULE_TEXT: Record<PasswordRuleId, string> = {
  lower: 'must contain a lowercase letter (a-z)',
  digit: 'must contain a digit (0-9)',
  length: `must be at least 12 characters with one of ${SPECIALS}, or at least 14 characters`,
  noUser: 'must not contain the user id',
  max: `must be at most ${MAX_PASSWORD_LENGTH} characters`,
}

/** Each rule and whether the password follows it (user: the account's id; empty: not checked). */
export function passwordChecks(pw: string, user: string): Record<PasswordRuleId, boolean> {
  const len = [...pw].length
  const special = [...pw].some((c) => SPECIALS.includes(c))
  const u = user.trim().toLowerCase()
  return {
    lower: /[a-z]/.test(pw),
    digit: /[0-9]/.test(pw),
    length: len >= 14 || (len >= 12 && special),
    noUser: u === '' || !pw.toLowerCase().includes(u),
    max: pw.length <= MAX_PASSWORD_LENGTH,
  }
}

/** The first rule the password breaks, or null. */
export function brokenPasswordRule(pw: string, user: string): PasswordRuleId | null {
  const c = passwordChecks(pw, user)
  return PASSWORD_RULE_IDS.find((id) => !c[id]) ?? null
}

/** null when the password follows the rules, else the broken rule and the whole rule to show. */
export function passwordRuleViolation(pw: string, user = ''): string | null {
  const id = brokenPasswordRule(pw, user)
  return id ? `${RULE_TEXT[id]} (rule: ${id}); ${PASSWORD_RULE}` : null
}
