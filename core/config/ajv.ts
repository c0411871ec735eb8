// Ajv set up for configuration files and for resource-type attribute schemas, and the translation of
// Ajv's errors into issues an operator can read ("required property 'ip' is missing", not "#/required").

import { isIP } from 'node:net'
import Ajv2020Module, { type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js'
import { NAME_PATTERN } from './schema.js'

// ajv ships CommonJS; under NodeNext the class is the module's `default` property.
const Ajv2020 = Ajv2020Module.default

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/

/** ajv-formats is not a dependency; these are the formats configuration and plugin schemas use. */
export const FORMATS = {
  ipv4: (s: string) => isIP(s) === 4,
  ipv6: (s: string) => isIP(s) === 6,
  hostname: (s: string) => HOSTNAME.test(s),
  'ipv4-cidr': (s: string) => {
    const [ip, bits, extra] = s.split('/')
    return extra === undefined && isIP(ip ?? '') === 4 && /^(?:[0-9]|[12][0-9]|3[0-2])$/.test(bits ?? '')
  },
} as const

/** Strict: the configuration schemas are ours, a schema mistake should fail loudly at startup. */
export function configAjv(): InstanceType<typeof Ajv2020> {
  return new Ajv2020({ allErrors: true, useDefaults: true, verbose: true, strict: true, formats: FORMATS })
}

/** Lenient: third-party plugin schemas carry UI hints and formats we may not know; ignore those quietly. */
export function attributeAjv(): InstanceType<typeof Ajv2020> {
  return new Ajv2020({ allErrors: true, useDefaults: true, verbose: true, strict: false, logger: false, formats: FORMATS })
}

export type { ValidateFunction }

export interface SchemaError {
  path: string
  reason: string
  keyword: string
}

/** Ajv errors -> one error per problem, with the pointer to the offending (or missing) value. */
export function explainErrors(errors: readonly ErrorObject[] | null | undefined): SchemaError[] {
  if (!errors) return []
  // anyOf/oneOf report each failed branch too; the summary error is enough.
  const summaries = errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf').map((e) => e.schemaPath + '/')
  const out: SchemaError[] = []
  const seen = new Set<string>()
  for (const e of errors) {
    if (summaries.some((p) => e.schemaPath.startsWith(p))) continue
    if (e.keyword === 'pattern' && e.schemaPath.includes('/propertyNames/')) continue
    const x = explain(e)
    const key = `${x.path}\0${x.reason}`
    if (!seen.has(key)) {
      seen.add(key)
      out.push(x)
    }
  }
  return out
}

function explain(e: ErrorObject): SchemaError {
  const p = e.params as Record<string, unknown>
  const at = (k: unknown) => `${e.instancePath}/${String(k).replace(/~/g, '~0').replace(/\//g, '~1')}`
  const base = { keyword: e.keyword }
  switch (e.keyword) {
    case 'required':
      return { ...base, path: at(p['missingProperty']), reason: `required property '${String(p['missingProperty'])}' is missing` }
    case 'additionalProperties':
      return { ...base, path: at(p['additionalProperty']), reason: `unknown property '${String(p['additionalProperty'])}'` }
    case 'propertyNames':
      return { ...base, path: at(p['propertyName']), reason: `'${String(p['propertyName'])}' is not a valid name: ${NAME_RULE}` }
    case 'pattern':
      return {
        ...base,
        path: e.instancePath,
        reason:
          p['pattern'] === NAME_PATTERN
            ? `${show(e.data)} is not a valid name: ${NAME_RULE}`
            : `${show(e.data)} must match pattern ${String(p['pattern'])}`,
      }
    case 'type':
      return { ...base, path: e.instancePath, reason: `must be ${String(p['type'])}, not ${kind(e.data)} ${show(e.data)}` }
    case 'enum':
      return {
        ...base,
        path: e.instancePath,
        reason: `must be one of ${(p['allowedValues'] as unknown[]).map(show).join(', ')}, not ${show(e.data)}`,
      }
    case 'const':
      return { ...base, path: e.instancePath, reason: `must be ${show(p['allowedValue'])}, not ${show(e.data)}` }
    case 'format':
      return { ...base, path: e.instancePath, reason: `${show(e.data)} is not a valid ${String(p['format'])}` }
    case 'anyOf':
    case 'oneOf': {
      const branches = (e.schema as unknown[]).map((s) => {
        const f = (s as Record<string, unknown>)['format']
        return typeof f === 'string' ? f : JSON.stringify(s)
      })
      return { ...base, path: e.instancePath, reason: `${show(e.data)} must be one of: ${branches.join(', ')}` }
    }
    case 'uniqueItems':
      return {
        ...base,
        path: `${e.instancePath}/${Math.max(Number(p['i']), Number(p['j']))}`,
        reason: `duplicate of item ${Math.min(Number(p['i']), Number(p['j']))}`,
      }
    default:
      return { ...base, path: e.instancePath, reason: `${e.message ?? 'is invalid'} (value ${show(e.data)})` }
  }
}

const NAME_RULE = 'a letter, then up to 63 letters, digits, "_", "." or "-"'

function kind(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v
}

function show(v: unknown): string {
  const s = JSON.stringify(v) ?? String(v)
  return s.length > 60 ? s.slice(0, 57) + '...' : s
}
