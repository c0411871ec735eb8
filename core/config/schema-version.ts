// The schema version of the configuration files: `schemaVersion`, an integer, in main.json and hb.json.
// A file without it is version 1 (the format before the field existed). An older file is migrated when it
// is read, one step at a time, by the pure functions below; a newer one is refused, because this agent
// cannot know what its fields mean, and is left as it is.
//
// In memory (ConfigStore.current(), the engine, the digest) a configuration has no version field: it is
// always the current version. The field is put back when a file is written (versionedFile).
//
// Adding a version: append one step to the file's list (the current version follows from its length),
// with a test that a file of the previous version becomes the expected one.

import type { ConfigIssue } from './issue.js'

export type ConfigKind = 'main' | 'hb'
export const VERSION_FIELD = 'schemaVersion'
export const FILE_NAMES: Record<ConfigKind, string> = { main: 'main.json', hb: 'hb.json' }

type Doc = Record<string, unknown>
/** Turns a document of version n (without the field) into version n + 1. Pure: no I/O, the input unchanged. */
type Step = (doc: Readonly<Doc>) => Doc

/** MIGRATIONS[kind][n - 1] takes version n to n + 1. */
const MIGRATIONS: Record<ConfigKind, readonly Step[]> = {
  // 1 -> 2: only the version field itself is new. The content is that of version 1, so an agent that
  // predates the field reads a version 2 configuration replicated to it without the field.
  main: [(d) => ({ ...d })],
  hb: [(d) => ({ ...d })],
}

/** The highest version of each file this agent reads, and the one it writes. */
export const SCHEMA_VERSION: Readonly<Record<ConfigKind, number>> = {
  main: MIGRATIONS.main.length + 1,
  hb: MIGRATIONS.hb.length + 1,
}

export type VersionRead =
  | { ok: true; /** the version the document had */ from: number; /** current version, without the field */ doc: Doc }
  | { ok: false; issue: ConfigIssue }

/**
 * The document's version, and the document at the current version without the field.
 * `missing` is the version of a document without the field: 1 for a file or a peer's message (written
 * before the field existed), the current version for a configuration built in memory by this agent.
 */
export function readVersion(kind: ConfigKind, doc: Doc, file: string, missing: 'v1' | 'current'): VersionRead {
  const { [VERSION_FIELD]: raw, ...rest } = doc
  const current = SCHEMA_VERSION[kind]
  const at = `/${VERSION_FIELD}`
  if (raw === undefined) return { ok: true, from: missing === 'v1' ? 1 : current, doc: missing === 'v1' ? migrate(kind, rest, 1) : rest }
  if (typeof raw !== 'number' || !Number.isSafeInteger(raw) || raw < 1) {
    return { ok: false, issue: { file, path: at, code: 'MCCS_ERR_CONFIG_SCHEMA', reason: 'must be an integer, 1 or more' } }
  }
  if (raw > current) {
    return {
      ok: false,
      issue: {
        file,
        path: at,
        code: 'MCCS_ERR_CONFIG_VERSION',
        reason:
          `is ${raw}, but this agent reads ${FILE_NAMES[kind]} up to version ${current}: it was written by a newer MCCS. ` +
          `Upgrade this agent (nothing was changed)`,
        found: raw,
        supported: current,
      },
    }
  }
  return { ok: true, from: raw, doc: migrate(kind, rest, raw) }
}

/** Applies the steps from version `from` to the current one. */
export function migrate(kind: ConfigKind, doc: Readonly<Doc>, from: number): Doc {
  let d: Doc = { ...doc }
  for (const step of MIGRATIONS[kind].slice(from - 1)) d = step(d)
  return d
}

/** The file form of a configuration: the version field first, then the configuration. */
export function versionedFile(kind: ConfigKind, config: object): Doc {
  const { [VERSION_FIELD]: _ignored, ...rest } = config as Doc
  return { [VERSION_FIELD]: SCHEMA_VERSION[kind], ...rest }
}

/** The version a document declares (1 when it has none), without checking it: for messages and logs. */
export function declaredVersion(doc: unknown): unknown {
  return doc && typeof doc === 'object' && !Array.isArray(doc) ? ((doc as Doc)[VERSION_FIELD] ?? 1) : 1
}
