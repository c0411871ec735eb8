// What `mccs config validate|export|import` do, as plain functions: structured results for --json and
// a human text with one line per issue (`file: /json/path: reason (CODE)`). The CLI wires them.

import { readFile, stat } from 'node:fs/promises'
import { basename, dirname, join } from 'node:path'
import type { HbConfig } from './hb-model.js'
import { isMccsError } from '../errors.js'
import { formatIssues, issuesOf, type ConfigIssue } from './issue.js'
import { readJson } from './json-text.js'
import { ConfigStore, HB_FILE, MAIN_FILE, type ConfigBundle, type ConfigPair } from './store.js'
import { validateHb, validateMain, type TypeCatalog } from './validate.js'
import { orderWarnings } from './order-warnings.js'

export interface CommandResult {
  ok: boolean
  issues: ConfigIssue[]
  /** What to print for a human. */
  text: string
}

export interface ValidateResult extends CommandResult {
  /** The files checked. */
  files: string[]
}

/**
 * `mccs config validate [dir|file]`: a directory checks its main.json and hb.json together; a file is
 * taken as hb.json (by name), an export bundle (by content) or a main.json (checked against the
 * hb.json beside it when there is one).
 */
export async function configValidate(target: string, opts: { types?: TypeCatalog } = {}): Promise<ValidateResult> {
  const isDir = await stat(target).then(
    (s) => s.isDirectory(),
    () => false,
  )
  if (isDir) return validatePair(join(target, MAIN_FILE), join(target, HB_FILE), opts.types)
  const text = await readFile(target, 'utf8').catch((e: NodeJS.ErrnoException) => e)
  if (text instanceof Error) return result([target], [missing(target, text)], '')
  if (/^hb.*\.json$/.test(basename(target))) {
    const hb = validateHb(text, { file: target })
    return result([target], hb.ok ? [] : hb.errors, hb.ok ? summary({ hb: hb.config }) : '')
  }
  const parsed = readJson(text)
  if (parsed.ok && isBundle(parsed.value)) {
    const { issues, pair } = validateBundle(parsed.value, target, opts.types)
    return result([target], issues, pair ? summary(pair) : '')
  }
  const besideHb = join(dirname(target), HB_FILE)
  const hasHb = await stat(besideHb).then(
    (s) => s.isFile(),
    () => false,
  )
  if (hasHb && besideHb !== target) return validatePair(target, besideHb, opts.types)
  const main = validateMain(text, { file: target, ...(opts.types ? { types: opts.types } : {}) })
  return result([target], main.ok ? [] : main.errors, main.ok ? summary({ main: main.config }) : '')
}

/** `mccs config export`: the configuration of a directory (or of a running store) as one JSON document. */
export async function configExport(
  source: string | ConfigStore,
  opts: { types?: TypeCatalog } = {},
): Promise<CommandResult & { bundle?: ConfigBundle }> {
  try {
    // An export reads: an older file is migrated in memory, not rewritten.
    const store = typeof source === 'string' ? new ConfigStore(source, { ...opts, migrateOnLoad: false }) : source
    if (typeof source === 'string') await store.load()
    const bundle = store.export()
    return { ok: true, issues: [], bundle, text: JSON.stringify(bundle, null, 2) }
  } catch (e) {
    return failed(e)
  }
}

/** `mccs config import <file>`: validates the bundle, then replaces both files (generations move forward). */
export async function configImport(
  target: string | ConfigStore,
  file: string,
  opts: { types?: TypeCatalog; expectGeneration?: { main?: number; hb?: number } } = {},
): Promise<CommandResult & { config?: ConfigPair }> {
  const text = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => e)
  if (text instanceof Error) return result([file], [missing(file, text)], '')
  const parsed = readJson(text)
  if (!parsed.ok) {
    return result(
      [file],
      [
        {
          file,
          path: '',
          code: 'MCCS_ERR_CONFIG_SYNTAX',
          reason: `line ${parsed.error.line}, column ${parsed.error.column}: ${parsed.error.reason}`,
          line: parsed.error.line,
          column: parsed.error.column,
        },
      ],
      '',
    )
  }
  try {
    const store = typeof target === 'string' ? new ConfigStore(target, { ...(opts.types ? { types: opts.types } : {}) }) : target
    const config = await store.import(parsed.value, { file, ...(opts.expectGeneration ? { expectGeneration: opts.expectGeneration } : {}) })
    return {
      ok: true,
      issues: [],
      config,
      text: `imported ${file} into ${store.dir}: main.json generation ${config.main.generation}, hb.json generation ${config.hb.generation}`,
    }
  } catch (e) {
    return failed(e)
  }
}

// ---------------------------------------------------------------------------------------------

async function validatePair(mainPath: string, hbPath: string, types: TypeCatalog | undefined): Promise<ValidateResult> {
  const issues: ConfigIssue[] = []
  const read = (p: string) =>
    readFile(p, 'utf8').catch((e: NodeJS.ErrnoException) => {
      issues.push(missing(p, e))
      return undefined
    })
  const hbText = await read(hbPath)
  const mainText = await read(mainPath)
  const hb = hbText === undefined ? undefined : validateHb(hbText, { file: hbPath })
  if (hb && !hb.ok) issues.push(...hb.errors)
  const hbConfig: HbConfig | undefined = hb?.ok ? hb.config : undefined
  const main =
    mainText === undefined
      ? undefined
      : validateMain(mainText, { file: mainPath, ...(hbConfig ? { hb: hbConfig } : {}), ...(types ? { types } : {}) })
  if (main && !main.ok) issues.push(...main.errors)
  return result([hbPath, mainPath], issues, main?.ok && hbConfig ? summary({ main: main.config, hb: hbConfig }) : '')
}

function validateBundle(
  b: { main: unknown; hb: unknown },
  file: string,
  types: TypeCatalog | undefined,
): { issues: ConfigIssue[]; pair?: ConfigPair } {
  // As store.import reads it: a part without a schemaVersion is of version 1.
  const hb = validateHb(b.hb, { file, unversioned: 'v1' })
  const issues = hb.ok ? [] : hb.errors.map((i) => ({ ...i, path: `/hb${i.path}` }))
  const main = validateMain(b.main, { file, unversioned: 'v1', ...(hb.ok ? { hb: hb.config } : {}), ...(types ? { types } : {}) })
  if (!main.ok) issues.push(...main.errors.map((i) => ({ ...i, path: `/main${i.path}` })))
  return hb.ok && main.ok ? { issues, pair: { main: main.config, hb: hb.config } } : { issues }
}

function isBundle(v: unknown): v is { main: unknown; hb: unknown } {
  return typeof v === 'object' && v !== null && 'main' in v && 'hb' in v
}

function summary(p: Partial<ConfigPair>): string {
  const parts: string[] = []
  if (p.main)
    parts.push(
      `main.json generation ${p.main.generation}: ${p.main.groups.length} groups, ${p.main.resources.length} resources, ${p.main.dependencies.length} dependencies`,
    )
  if (p.hb)
    parts.push(`hb.json generation ${p.hb.generation}: cluster ${p.hb.cluster}, ${p.hb.nodes.length} nodes, ${p.hb.links.length} links`)
  // Valid, but against the manual's order for network resources (address -> aws-oip|aws-sip -> nic).
  if (p.main) for (const w of orderWarnings(p.main)) parts.push(`warning: ${w.path} (${w.resource}): ${w.reason}`)
  return parts.join('\n')
}

function result(files: string[], issues: ConfigIssue[], okText: string): ValidateResult {
  const ok = issues.length === 0
  return { ok, files, issues, text: ok ? `valid: ${okText}`.replace(/\n/g, '\n       ') : formatIssues(issues) }
}

function missing(file: string, e: NodeJS.ErrnoException): ConfigIssue {
  return {
    file,
    path: '',
    code: 'MCCS_ERR_CONFIG_MISSING',
    reason: e.code === 'ENOENT' ? 'file does not exist' : `cannot be read: ${e.message}`,
  }
}

function failed(e: unknown): CommandResult {
  const issues = issuesOf(e)
  if (issues) return { ok: false, issues, text: formatIssues(issues) }
  if (isMccsError(e)) {
    // The issue line shows the subject and field itself: only the reason goes in.
    const issue: ConfigIssue = { file: e.subject ?? '', path: e.field ?? '', code: e.code, reason: e.reason }
    return { ok: false, issues: [issue], text: formatIssues([issue]) }
  }
  throw e
}
