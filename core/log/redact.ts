// The one redaction of MCCS: the agent's log, the operation log and support bundles all go through it,
// so what is hidden in one place is hidden in every other. Three things make a value secret:
//  (a) the resource type's wizard schema marks the attribute (`x-mccs: {secret: true}` or a password widget);
//  (b) its key looks secret (password, passwd, pwd, secret, token, key, credential, DB_PASS, MYSQL_PWD, …);
//  (c) the value itself looks secret (URL userinfo, `--password=x` / `-p x` argv, AWS key ids and secret
//      keys, PEM private keys, Authorization / Bearer headers).
// Values found by (a)–(c) in the configuration in force are also remembered (`knownSecrets`), so a free-text
// log line that quotes one (a plugin writing "connecting with <password>") is scrubbed too.

export const REDACTED = '[redacted]'

// --- (b) key names -------------------------------------------------------------------------------
/** Searched in the lower-cased name with separators removed (dbPassword, PGPASSWORD, AWS_SECRET_ACCESS_KEY). */
const SECRET_PARTS = [
  'password',
  'passwd',
  'passphrase',
  'secret',
  'token',
  'credential',
  'apikey',
  'privatekey',
  'accesskey',
  'authorization',
  'cookie',
  'sessionid',
]
/** Whole words only (DB_PASS, MYSQL_PWD, clusterKey, sshKey, REDIS_AUTH; not monkey, passive, keyboard). */
const SECRET_WORDS = new Set(['pass', 'pwd', 'pw', 'key', 'auth', 'cred', 'creds', 'pin', 'otp'])

export function isSecretKey(name: string): boolean {
  const compact = name.toLowerCase().replace(/[^a-z0-9]/g, '')
  if (SECRET_PARTS.some((p) => compact.includes(p))) return true
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
  return words.some((w) => SECRET_WORDS.has(w))
}

/**
 * Stricter, for names inside free text and argv flags: the last word must be secret (DB_PASS=, --api-key,
 * password:), so MCCS_ERR_CLUSTER_KEY_MISSING: or --password-file /path keep their value.
 */
export function isSecretName(name: string): boolean {
  const words = name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1 $2')
    .toLowerCase()
    .split(/[^a-z0-9]+/)
    .filter(Boolean)
  const last = words[words.length - 1] ?? ''
  return SECRET_WORDS.has(last) || SECRET_PARTS.some((p) => last.includes(p))
}

// --- known values ---------------------------------------------------------------------------------
/** Shorter values are not scrubbed from free text: "root" or "1234" would erase ordinary words. */
export const MIN_KNOWN_LENGTH = 6
const MAX_KNOWN = 4096

/** Secret values to scrub wherever they appear, longest first so one never leaves a piece of another. */
export class SecretSet {
  private readonly values = new Set<string>()
  private sorted: string[] | undefined

  add(v: string): void {
    if (v.length < MIN_KNOWN_LENGTH || v === REDACTED || this.values.has(v) || this.values.size >= MAX_KNOWN) return
    this.values.add(v)
    this.sorted = undefined
  }

  get size(): number {
    return this.values.size
  }

  copy(): SecretSet {
    const c = new SecretSet()
    for (const v of this.values) c.add(v)
    return c
  }

  scrub(s: string, onSecret?: (v: string) => void): string {
    if (this.values.size === 0) return s
    this.sorted ??= [...this.values].sort((a, b) => b.length - a.length)
    // indexOf per value: linear in the text for each value, unlike one big alternation.
    for (const v of this.sorted) {
      if (s.includes(v)) {
        onSecret?.(v)
        s = s.split(v).join(REDACTED)
      }
    }
    return s
  }
}

/** The configuration in force's secrets, fed by the config store; the loggers scrub with it. */
export const knownSecrets = new SecretSet()

export interface RedactOptions {
  /** Values to scrub from text (default: knownSecrets). */
  known?: SecretSet
  /** Told each secret value that was replaced (to remember them). */
  onSecret?: (v: string) => void
}

// --- (c) value patterns -----------------------------------------------------------------------------
// Every pattern is linear in the text (bounded runs, no nested quantifiers): a bundle redacts 20 MiB logs.
const PEM = /-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|$)/g
/** scheme://user:password@ — the password may hold '@' (up to the last one before the path). */
const URL_USERINFO = /(?<![a-z0-9+.-])([a-z][a-z0-9+.-]{0,31}:\/\/)([^\s:/@"'<>]{0,256}):([^\s/"'<>]{1,256})@/gi
const AUTH_HEADER = /\b(authorization["']?\s*[:=]\s*["']?)([^\r\n"']{1,4096})/gi
const BEARER = /\b(bearer\s+)([A-Za-z0-9._~+/-]+=*)/gi
/** name=value, name: value, "name":"value" in free text, where the name looks secret (DB_PASS=x, --password=x). */
const KEY_VALUE = /(?<![\w.])([A-Za-z_][\w.-]{0,63})("?\s*[:=]\s*"?)([^\s"'&,;]+)/g
/** A flag followed by its value: --password x, --token x, -p x (mysql), and -pX glued. */
const FLAG_VALUE = /(^|\s)(--?)([A-Za-z][\w-]*)(\s+)([^\s-]\S*)/g
const DASH_P_GLUED = /(^|\s)-p([^\s-]\S*)/g
const AWS_KEY_ID = /\b(?:AKIA|ASIA|AROA|AIDA|AGPA|ANPA|ANVA|AIPA|ABIA|ACCA)[A-Z0-9]{16}\b/g
/** 40 base64 characters (an AWS secret access key), or 32+ of base64url (API keys, tokens). */
const B64_40 = /(?<![A-Za-z0-9+/=])[A-Za-z0-9+/]{40}(?![A-Za-z0-9+/=])/g
const TOKEN_32 = /(?<![A-Za-z0-9+/=_-])[A-Za-z0-9_+-]{32,}={0,2}(?![A-Za-z0-9+/=_-])/g

const isRedacted = (v: string) => v.startsWith(REDACTED) || v === `"${REDACTED}` || v === `${REDACTED}"`

/**
 * Random-looking: upper, lower and digits, and a spread of characters close to what random base64 of that
 * length shows (0.8 × log2 of the length; identifiers such as handleResourceStateChange2Online stay below).
 */
function looksRandom(s: string): boolean {
  if (!/[A-Z]/.test(s) || !/[a-z]/.test(s) || !/[0-9]/.test(s)) return false
  const counts = new Map<string, number>()
  for (const c of s) counts.set(c, (counts.get(c) ?? 0) + 1)
  let h = 0
  for (const n of counts.values()) h -= (n / s.length) * Math.log2(n / s.length)
  return h >= 0.8 * Math.log2(Math.min(s.length, 64))
}

/** Free text with secrets replaced: known values, then the value patterns. */
export function redactText(s: string, o: RedactOptions = {}): string {
  const seen = o.onSecret ?? (() => {})
  s = (o.known ?? knownSecrets).scrub(s, o.onSecret)
  if (!/[-:=@]|bearer|[A-Za-z0-9+/_]{20}/i.test(s)) return s // nothing below can match: most log lines end here
  s = s.replace(PEM, (_m, kind: string) => {
    seen(_m)
    return `-----BEGIN ${kind}PRIVATE KEY-----${REDACTED}-----END ${kind}PRIVATE KEY-----`
  })
  s = s.replace(URL_USERINFO, (m, scheme: string, user: string, pw: string) => {
    if (isRedacted(pw)) return m
    seen(pw)
    return `${scheme}${user}:${REDACTED}@`
  })
  s = s.replace(AUTH_HEADER, (m, head: string, v: string) => {
    if (isRedacted(v.replace(/^\w+\s+/, ''))) return m
    seen(v)
    const scheme = /^(\w+)\s+\S/.exec(v)?.[1]
    return `${head}${scheme ? `${scheme} ` : ''}${REDACTED}`
  })
  s = s.replace(BEARER, (m, head: string, v: string) => (isRedacted(v) ? m : (seen(v), `${head}${REDACTED}`)))
  s = s.replace(KEY_VALUE, (m, name: string, sep: string, v: string) => {
    if (!isSecretName(name) || isRedacted(v) || /^authorization$/i.test(name)) return m
    seen(v)
    return `${name}${sep}${REDACTED}`
  })
  s = s.replace(FLAG_VALUE, (m, pre: string, dashes: string, name: string, gap: string, v: string) => {
    const secretFlag = isSecretName(name) || (dashes === '-' && name === 'p')
    if (!secretFlag || isRedacted(v)) return m
    if (name !== 'p') seen(v) // -p is also a port or a prefix: hidden here, not remembered everywhere
    return `${pre}${dashes}${name}${gap}${REDACTED}`
  })
  s = s.replace(DASH_P_GLUED, (m, pre: string, v: string) => (isRedacted(v) ? m : `${pre}-p${REDACTED}`))
  s = s.replace(AWS_KEY_ID, (m) => {
    seen(m)
    return REDACTED
  })
  s = s.replace(B64_40, (m) => (looksRandom(m) ? (seen(m), REDACTED) : m))
  s = s.replace(TOKEN_32, (m) => (looksRandom(m) ? (seen(m), REDACTED) : m))
  return s
}

// --- structured values --------------------------------------------------------------------------
const MAX_DEPTH = 32
const FLAG = /^--?([A-Za-z][\w-]*)$/

/** Every string inside v (to remember the values a secret key or a schema mark hides). */
function strings(v: unknown, out: (s: string) => void, depth = 0): void {
  if (typeof v === 'string') out(v)
  else if (typeof v === 'number') out(String(v))
  else if (v && typeof v === 'object' && depth < MAX_DEPTH) for (const x of Object.values(v)) strings(x, out, depth + 1)
}

function hide(v: unknown, o: RedactOptions): unknown {
  if (v === null || typeof v === 'boolean' || v === undefined) return v
  if (o.onSecret) strings(v, o.onSecret)
  return REDACTED
}

/**
 * A deep copy with secrets replaced: values under secret-looking keys, secret-looking strings anywhere,
 * and an argv array's value after a secret flag (`["--password", "x"]`, `["-p", "x"]`).
 */
export function redactJson(v: unknown, o: RedactOptions = {}, depth = 0): unknown {
  if (typeof v === 'string') return redactText(v, o)
  if (v === null || typeof v !== 'object') return v
  if (depth > MAX_DEPTH) return `${REDACTED} (nested too deep)`
  if (v instanceof Error) {
    const code = (v as NodeJS.ErrnoException).code
    return {
      type: v.name,
      message: redactText(v.message, o),
      ...(code ? { code } : {}),
      ...(v.stack ? { stack: redactText(v.stack, o) } : {}),
    }
  }
  if (Array.isArray(v)) {
    return v.map((x, i) => {
      const prev = i > 0 ? v[i - 1] : undefined
      const flag = typeof prev === 'string' ? FLAG.exec(prev) : null
      if (flag && typeof x === 'string' && (isSecretName(flag[1]!) || prev === '-p')) {
        if (prev !== '-p') o.onSecret?.(x)
        return REDACTED
      }
      return redactJson(x, o, depth + 1)
    })
  }
  const out: Record<string, unknown> = {}
  for (const [k, x] of Object.entries(v)) out[k] = isSecretKey(k) && !isPlainFlag(x) ? hide(x, o) : redactJson(x, o, depth + 1)
  return out
}

/** A boolean or null under a secret-looking key (passwordSet: true) is not a secret. */
const isPlainFlag = (x: unknown) => x === null || typeof x === 'boolean'

// --- (a) schema marks ----------------------------------------------------------------------------
type Schema = Record<string, unknown>
/** A resource type's attribute schema (its manifest's wizard), or undefined when the type is unknown. */
export type SchemaOf = (type: string) => object | undefined

function isSecretSchema(s: Schema): boolean {
  const ui = s['x-mccs'] as { secret?: unknown; widget?: unknown } | undefined
  return ui?.secret === true || ui?.widget === 'password' || s.writeOnly === true || s.format === 'password'
}

/** Follows a local $ref ("#/$defs/x"); anything else is left unresolved. */
function deref(s: Schema, root: Schema): Schema {
  for (let i = 0; i < 8 && typeof s.$ref === 'string' && s.$ref.startsWith('#/'); i++) {
    let t: unknown = root
    for (const part of s.$ref.slice(2).split('/'))
      t = t && typeof t === 'object' ? (t as Schema)[part.replace(/~1/g, '/').replace(/~0/g, '~')] : undefined
    if (!t || typeof t !== 'object') break
    const { $ref: _ref, ...rest } = s
    s = { ...(t as Schema), ...rest }
  }
  return s
}

/** Values the schema marks secret replaced, at any depth of the attributes. */
function bySchema(v: unknown, schema: unknown, root: Schema, o: RedactOptions, depth = 0): unknown {
  if (!schema || typeof schema !== 'object' || depth > MAX_DEPTH) return v
  const s = deref(schema as Schema, root)
  if (isSecretSchema(s)) return hide(v, o)
  for (const k of ['allOf', 'anyOf', 'oneOf'] as const) {
    if (Array.isArray(s[k])) for (const sub of s[k] as unknown[]) v = bySchema(v, sub, root, o, depth + 1)
  }
  if (Array.isArray(v)) {
    const prefix = Array.isArray(s.prefixItems) ? (s.prefixItems as unknown[]) : []
    return v.map((x, i) => bySchema(x, prefix[i] ?? s.items, root, o, depth + 1))
  }
  if (v && typeof v === 'object') {
    const props = (s.properties ?? {}) as Record<string, unknown>
    const patterns = Object.entries((s.patternProperties ?? {}) as Record<string, unknown>)
    const out: Record<string, unknown> = {}
    for (const [k, x] of Object.entries(v)) {
      let sub: unknown = Object.hasOwn(props, k) ? props[k] : undefined
      if (sub === undefined)
        sub = patterns.find(([p]) => {
          try {
            return new RegExp(p, 'u').test(k)
          } catch {
            return false
          }
        })?.[1]
      if (sub === undefined && typeof s.additionalProperties === 'object') sub = s.additionalProperties
      out[k] = bySchema(x, sub, root, o, depth + 1)
    }
    return out
  }
  return v
}

/** Applies the schema marks to every {type, attrs, nodeAttrs} inside a configuration (main.json's resources, hb.json's fencing). */
function byTypeSchemas(v: unknown, schemaOf: SchemaOf, o: RedactOptions, depth = 0): unknown {
  if (v === null || typeof v !== 'object' || depth > MAX_DEPTH) return v
  if (Array.isArray(v)) return v.map((x) => byTypeSchemas(x, schemaOf, o, depth + 1))
  const rec = v as Record<string, unknown>
  const schema = typeof rec.type === 'string' ? (schemaOf(rec.type) as Schema | undefined) : undefined
  const out: Record<string, unknown> = {}
  for (const [k, x] of Object.entries(rec)) {
    if (schema && k === 'attrs') out[k] = bySchema(x, schema, schema, o)
    else if (schema && k === 'nodeAttrs' && x && typeof x === 'object')
      out[k] = Object.fromEntries(Object.entries(x).map(([n, a]) => [n, bySchema(a, schema, schema, o)]))
    else out[k] = byTypeSchemas(x, schemaOf, o, depth + 1)
  }
  return out
}

/** A configuration (main.json, hb.json, an operation's arguments) redacted by schema marks, key names and values. */
export function redactConfig(v: unknown, schemaOf?: SchemaOf, o: RedactOptions = {}): unknown {
  return redactJson(schemaOf ? byTypeSchemas(v, schemaOf, o) : v, o)
}

/** Remembers the secret values of a configuration, so that text quoting them is scrubbed (logs, bundles). */
export function rememberSecrets(config: unknown, schemaOf?: SchemaOf, into: SecretSet = knownSecrets): void {
  redactConfig(config, schemaOf, { known: new SecretSet(), onSecret: (s) => into.add(s) })
}

/** JSON text -> redacted JSON text; text that is not JSON is not included (it might hold anything). */
export function redactJsonText(
  text: string,
  schemaOf?: SchemaOf,
  o: RedactOptions = {},
): { ok: true; text: string } | { ok: false; reason: string } {
  let v: unknown
  try {
    v = JSON.parse(text)
  } catch (e) {
    return { ok: false, reason: `not JSON, left out so no secret leaks: ${(e as Error).message}` }
  }
  return { ok: true, text: JSON.stringify(redactConfig(v, schemaOf, o), null, 2) + '\n' }
}

/** One line of a log: a JSON line redacted as data, anything else as text. */
export function redactLogLine(line: string, o: RedactOptions = {}): string {
  if (line.startsWith('{')) {
    try {
      return JSON.stringify(redactJson(JSON.parse(line), o))
    } catch {
      /* not JSON after all */
    }
  }
  return redactText(line, o)
}
