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
  /** What a valid configuration holds, as data: the CLI words it in the caller's language (`text` is English). */
  summary?: ValidSummary
}

/** The counts `valid:` reports, and the manual's order warnings (reasons in English, as every reason). */
export interface ValidSummary {
  main?: { generation: number; groups: number; resources: number; dependencies: number }
  hb?: { generation: number; cluster: string; nodes: number; links: number }
  warnings: Array<{ path: string; resource: string; reason: string }>
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
  if (text instanceof Error) return result([target], [missing(target, text)])
  if (/^hb.*\.json$/.test(basename(target))) {
    const hb = validateHb(text, { file: target })
    return result([target], hb.ok ? [] : hb.errors, hb.ok ? { hb: hb.config } : undefined)
  }
  const parsed = readJson(text)
  if (parsed.ok && isBundle(parsed.value)) {
    const { issues, pair } = validateBundle(parsed.value, target, opts.types)
    return result([target], issues, pair)
  }
  const besideHb = join(dirname(target), HB_FILE)
  const hasHb = await stat(besideHb).then(
    (s) => s.isFile(),
    () => false,
  )
  if (hasHb && besideHb !== target) return validatePair(target, besideHb, opts.types)
  const main = validateMain(text, { file: target, ...(opts.types ? { types: opts.types } : {}) })
  return result([target], main.ok ? [] : main.errors, main.ok ? { main: main.config } : undefined)
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
  if (text instanceof Error) return result([file], [missing(file, text)])
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
  return result([hbPath, mainPath], issues, main?.ok && hbConfig ? { main: main.config, hb: hbConfig } : undefined)
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

function summarize(p: Partial<ConfigPair>): ValidSummary {
  return {
    ...(p.main
      ? {
          main: {
            generation: p.main.generation,
            groups: p.main.groups.length,
            resources: p.main.resources.length,
            dependencies: p.main.dependencies.length,
          },
        }
      : {}),
    ...(p.hb ? { hb: { generation: p.hb.generation, cluster: p.hb.cluster, nodes: p.hb.nodes.length, links: p.hb.links.length } } : {}),
    // Valid, but against the manual's order for network resources (address -> aws-oip|aws-sip -> nic).
    warnings: p.main ? orderWarnings(p.main).map((w) => ({ path: w.path, resource: w.resource, reason: w.reason })) : [],
  }
}

/** The English summary under `valid:` (the --json text; the CLI's human output words `summary` per language). */
function summaryText(s: ValidSummary): string {
  const parts: string[] = []
  if (s.main)
    parts.push(
      `main.json generation ${s.main.generation}: ${s.main.groups} groups, ${s.main.resources} resources, ${s.main.dependencies} dependencies`,
    )
  if (s.hb) parts.push(`hb.json generation ${s.hb.generation}: cluster ${s.hb.cluster}, ${s.hb.nodes} nodes, ${s.hb.links} links`)
  for (const w of s.warnings) parts.push(`warning: ${w.path} (${w.resource}): ${w.reason}`)
  return parts.join('\n')
}

function result(files: string[], issues: ConfigIssue[], valid?: Partial<ConfigPair>): ValidateResult {
  const ok = issues.length === 0
  if (!ok) return { ok, files, issues, text: formatIssues(issues) }
  const summary = summarize(valid ?? {})
  return { ok, files, issues, summary, text: `valid: ${summaryText(summary)}`.replace(/\n/g, '\n       ') }
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
