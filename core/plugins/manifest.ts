// plugin.json: validated at load against a JSON schema; engines.mccs checked with semver against the
// agent's plugin API version. Every error names the plugin, the field (JSON pointer) and the reason.
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { Ajv2020 } from 'ajv/dist/2020.js'
import semver from 'semver'
import { MccsError } from '../errors.js'
import { PLUGIN_API_VERSION, type PluginManifest } from '../../sdk/src/types.js'
import { PERMISSION_PATTERN } from './permissions.js'
import { PROC_USER_PATTERN } from './caps/proc-users.js'
import { LOCALES } from '../i18n/messages.js'
import { loadPluginLocales, type PluginLocales } from './plugin-locales.js'

const policyProps = Object.fromEntries(
  [
    'monitorIntervalS',
    'monitorTimeoutS',
    'offlineMonitorIntervalS',
    'onlineTimeoutS',
    'offlineTimeoutS',
    'cleanTimeoutS',
    'toleranceLimit',
    'monitorTimeoutLimit',
    'restartLimit',
    'onlineRetryLimit',
    'confidenceIntervalS',
    'failureTimeoutS',
  ].map((k) => [k, { type: 'number', minimum: 0, maximum: 86400 }]),
)

export const MANIFEST_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  required: ['name', 'displayName', 'version', 'kind', 'engines', 'main', 'permissions', 'wizard'],
  additionalProperties: false,
  properties: {
    $schema: { type: 'string' },
    name: { type: 'string', pattern: '^[a-z][a-z0-9-]{0,39}$', description: 'the resource type name' },
    displayName: { type: 'string', minLength: 1, maxLength: 80 },
    description: { type: 'string', maxLength: 2000 },
    version: { type: 'string', minLength: 5, maxLength: 64 },
    kind: { enum: ['resource', 'fence'] },
    engines: {
      type: 'object',
      required: ['mccs'],
      additionalProperties: false,
      properties: { mccs: { type: 'string', minLength: 1, maxLength: 64 } },
    },
    main: { type: 'string', pattern: '^(?!/)(?!.*\\.\\.)[A-Za-z0-9_./-]+\\.js$' },
    permissions: { type: 'array', uniqueItems: true, maxItems: 256, items: { type: 'string', pattern: PERMISSION_PATTERN } },
    // Who the `proc` permission may start processes as: "root", "*" (any other user) or user names.
    procUsers: { type: 'array', uniqueItems: true, maxItems: 64, items: { type: 'string', pattern: PROC_USER_PATTERN } },
    defaults: { type: 'object', additionalProperties: false, properties: policyProps },
    limits: {
      type: 'object',
      additionalProperties: false,
      properties: {
        memoryMb: { type: 'integer', minimum: 8, maximum: 1024 },
        hookCpuMs: { type: 'integer', minimum: 10, maximum: 600000 },
      },
    },
    // Fence types: how long after a fence call starts the target usually runs nothing (a power switch that
    // answers once the outlet is off: its usual answer time). The two-node fence delay is built from it.
    fenceEffectMs: { type: 'integer', minimum: 0, maximum: 120000 },
    locales: {
      type: 'object',
      minProperties: 1,
      additionalProperties: false,
      properties: Object.fromEntries(LOCALES.map((l) => [l, { type: 'string', pattern: '^(?!/)(?!.*\\.\\.)[A-Za-z0-9_./-]+\\.json$' }])),
    },
    wizard: {
      type: 'object',
      required: ['type', 'properties'],
      properties: { type: { const: 'object' }, properties: { type: 'object' } },
    },
  },
} as const

const ajv = new Ajv2020({ allErrors: true, strict: false })
const checkManifest = ajv.compile(MANIFEST_SCHEMA)
// A separate instance compiles plugins' wizard schemas (unknown x-mccs keywords allowed).
const wizardAjv = new Ajv2020({ allErrors: true, strict: false })

/** Validates a parsed plugin.json. `label` names the plugin in errors before its name is known. */
export function validateManifest(doc: unknown, label: string): PluginManifest {
  const subject = `plugin ${typeof (doc as { name?: unknown })?.name === 'string' ? `'${(doc as { name: string }).name}'` : label}`
  if (!checkManifest(doc)) {
    const e = checkManifest.errors![0]!
    let field = e.instancePath || '/'
    let reason = e.message ?? 'invalid'
    if (e.keyword === 'required') {
      field = `${e.instancePath}/${(e.params as { missingProperty: string }).missingProperty}`
      reason = 'is required'
    } else if (e.keyword === 'additionalProperties') {
      field = `${e.instancePath}/${(e.params as { additionalProperty: string }).additionalProperty}`
      reason = 'is not a manifest field'
    } else if (e.keyword === 'pattern' && e.instancePath.startsWith('/permissions/')) {
      reason = `'${String(getPointer(doc, e.instancePath))}' is not a known permission (see docs/plugins.md, "Permissions")`
    } else if (e.keyword === 'pattern' && e.instancePath.startsWith('/procUsers/')) {
      reason = `'${String(getPointer(doc, e.instancePath))}' is not a user name, "root" or "*" (see docs/plugins.md, "The proc permission")`
    } else if (e.keyword === 'enum') {
      reason = `must be one of ${JSON.stringify((e.params as { allowedValues: unknown[] }).allowedValues)}`
    }
    const more = checkManifest.errors!.length > 1 ? ` (and ${checkManifest.errors!.length - 1} more)` : ''
    throw new MccsError('MCCS_ERR_MANIFEST', reason + more, {
      subject,
      field,
      data: {
        errors: checkManifest.errors!.map((x: { instancePath: string; message?: string }) => ({
          path: x.instancePath,
          message: x.message,
        })),
      },
    })
  }
  const m = doc as unknown as PluginManifest
  if (m.procUsers !== undefined && !m.permissions.includes('proc')) {
    throw new MccsError('MCCS_ERR_MANIFEST', "declares users for processes but the plugin does not hold the 'proc' permission", {
      subject,
      field: '/procUsers',
    })
  }
  if (m.fenceEffectMs !== undefined && m.kind !== 'fence') {
    throw new MccsError('MCCS_ERR_MANIFEST', "is for fence types only (kind 'fence')", { subject, field: '/fenceEffectMs' })
  }
  if (!semver.valid(m.version)) {
    throw new MccsError('MCCS_ERR_MANIFEST', `'${m.version}' is not a semantic version`, { subject, field: '/version' })
  }
  if (!semver.validRange(m.engines.mccs)) {
    throw new MccsError('MCCS_ERR_MANIFEST', `'${m.engines.mccs}' is not a semver range`, { subject, field: '/engines/mccs' })
  }
  if (!semver.satisfies(PLUGIN_API_VERSION, m.engines.mccs)) {
    throw new MccsError(
      'MCCS_ERR_ENGINE_INCOMPATIBLE',
      `needs MCCS plugin API ${m.engines.mccs}, this agent provides ${PLUGIN_API_VERSION}`,
      { subject, field: '/engines/mccs' },
    )
  }
  try {
    wizardAjv.compile(m.wizard)
  } catch (err) {
    throw new MccsError('MCCS_ERR_MANIFEST', `is not a valid JSON Schema: ${(err as Error).message}`, { subject, field: '/wizard' })
  }
  return m
}

export interface LoadedManifest {
  manifest: PluginManifest
  dir: string
  code: string
  /** The plugin's own texts per declared language (manifest `locales`), checked for missing keys. */
  locales?: PluginLocales
}

/** Reads and validates `<dir>/plugin.json` and its bundle. */
export async function loadPluginDir(dir: string): Promise<LoadedManifest> {
  const file = path.join(dir, 'plugin.json')
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    throw new MccsError('MCCS_ERR_PLUGIN_LOAD', `cannot read ${file}: ${(err as Error).message}`, {
      subject: `plugin at ${dir}`,
      field: 'plugin.json',
    })
  }
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (err) {
    throw new MccsError('MCCS_ERR_MANIFEST', `plugin.json is not valid JSON: ${(err as Error).message}`, {
      subject: `plugin at ${dir}`,
      field: '/',
    })
  }
  const manifest = validateManifest(doc, `at ${dir}`)
  const locales = await loadPluginLocales(dir, manifest)
  const main = path.join(dir, manifest.main)
  let code: string
  try {
    code = await readFile(main, 'utf8')
  } catch {
    throw new MccsError('MCCS_ERR_PLUGIN_LOAD', `bundle ${manifest.main} not found (run mccs-plugin build)`, {
      subject: `plugin '${manifest.name}'`,
      field: '/main',
    })
  }
  return Object.keys(locales).length ? { manifest, dir, code, locales } : { manifest, dir, code }
}

function getPointer(doc: unknown, pointer: string): unknown {
  let cur: unknown = doc
  for (const part of pointer.split('/').slice(1)) cur = (cur as Record<string, unknown> | undefined)?.[part]
  return cur
}
