// The configuration in force on this node: main.json and hb.json in one directory, each with a
// generation. Changes are validated first, refused when based on a stale generation, and written
// atomically one at a time; the previous file is kept as `<file>.prev` for manual recovery.
// Each file carries a schema version (schema-version.ts): an older file is migrated when loaded, its
// original kept as `<file>.v<old version>`; a newer one is refused and left as it is.

import { createHash } from 'node:crypto'
import { mkdir, readFile, rm, stat } from 'node:fs/promises'
import { basename, join } from 'node:path'
import type { MainConfig } from '../engine/index.js'
import type { HbConfig, HbNode } from './hb-model.js'
import { MccsError } from '../errors.js'
import { fsyncDir, removeStaleTemps, writeFileAtomic } from './atomic.js'
import { invalidConfigError, type ConfigIssue } from './issue.js'
import { readJson } from './json-text.js'
import { validateHb, validateMain, type TypeCatalog } from './validate.js'
import { rememberSecrets } from '../log/redact.js'
import type { HostLogger } from '../log/types.js'
import { readVersion, SCHEMA_VERSION, VERSION_FIELD, versionedFile, type ConfigKind } from './schema-version.js'

export const MAIN_FILE = 'main.json'
export const HB_FILE = 'hb.json'
/** Journal of an import in progress: both files change, so a crash between the two renames is rolled forward. */
export const PENDING_FILE = 'import.pending.json'

export interface ConfigPair {
  main: MainConfig
  hb: HbConfig
}
/** The `mccs config export` document. */
export type ConfigBundle = ConfigPair

export interface StoreOptions {
  /** When given, resource types and attributes are checked against the loaded plugins. */
  types?: TypeCatalog
  /** Where a migration of an older file is reported. */
  log?: HostLogger
  /** false: an older file is migrated in memory only, and rewritten (with its backup) at the next change
   *  through this store. For readers that must not write (an export, a support bundle). Default true. */
  migrateOnLoad?: boolean
}

export class ConfigStore {
  private state: Readonly<ConfigPair> | undefined
  /** Files of an older schema version loaded but not rewritten yet (migrateOnLoad false): their text. */
  private older: Partial<Record<ConfigKind, { from: number; text: string }>> = {}
  /** Serializes loads and writes: two commits never interleave their renames. */
  private queue: Promise<unknown> = Promise.resolve()

  constructor(
    readonly dir: string,
    private readonly opts: StoreOptions = {},
  ) {}

  get mainPath(): string {
    return join(this.dir, MAIN_FILE)
  }
  get hbPath(): string {
    return join(this.dir, HB_FILE)
  }

  /**
   * Reads and validates both files and makes them the configuration in force. When they are invalid
   * it throws MCCS_ERR_CONFIG_INVALID (issues in `data.issues`) and the previous configuration stays.
   */
  load(): Promise<Readonly<ConfigPair>> {
    return this.serial(async () => {
      await removeStaleTemps(this.dir)
      await this.rollForwardImport()
      const issues: ConfigIssue[] = []
      const hbText = await readConfigFile(this.hbPath, issues)
      const hb = hbText === undefined ? undefined : validateHb(hbText, { file: this.hbPath })
      if (hb && !hb.ok) issues.push(...hb.errors)
      const mainText = await readConfigFile(this.mainPath, issues)
      const main =
        mainText === undefined ? undefined : validateMain(mainText, { file: this.mainPath, ...this.ctx(hb?.ok ? hb.config : undefined) })
      if (main && !main.ok) issues.push(...main.errors)
      if (!hb?.ok || !main?.ok) throw invalidConfigError(this.dir, issues)
      // Both files are readable before either is rewritten: a newer hb.json leaves an older main.json as it was.
      this.older = {}
      for (const [kind, from, text] of [
        ['hb', hb.from, hbText!],
        ['main', main.from, mainText!],
      ] as const) {
        if (from >= SCHEMA_VERSION[kind]) continue
        if (this.opts.migrateOnLoad === false) this.older[kind] = { from, text }
        else await this.migrateFile(kind, from, text)
      }
      return this.set({ main: main.config, hb: hb.config })
    })
  }

  /** The configuration in force (deep-frozen: copy it with structuredClone to edit). */
  current(): Readonly<ConfigPair> {
    if (!this.state) throw new MccsError('MCCS_ERR_CONFIG_MISSING', 'no configuration loaded yet', { subject: this.dir })
    return this.state
  }

  /**
   * Replaces main.json with `next` as generation expectGeneration + 1. `unversioned: 'v1'` when `next`
   * came from a peer (without a schemaVersion it is of version 1); by default it is this agent's own.
   */
  commit(next: MainConfig, o: { expectGeneration: number; unversioned?: 'v1' | 'current' }): Promise<Readonly<MainConfig>> {
    return this.serial(async () => {
      const cur = this.current()
      checkGeneration(this.mainPath, o.expectGeneration, cur.main.generation)
      const v = validateMain(
        { ...next, generation: cur.main.generation + 1 },
        { file: this.mainPath, unversioned: o.unversioned ?? 'current', ...this.ctx(cur.hb) },
      )
      if (!v.ok) throw invalidConfigError(this.mainPath, v.errors)
      await this.replace(MAIN_FILE, cur.main, v.config)
      return this.set({ main: v.config, hb: cur.hb }).main
    })
  }

  /**
   * Installs main.json as another node committed it (configuration replication): kept at its own
   * generation, which must be newer than ours — or equal with `force` (reconciling a diverged node).
   * `next` is the peer's document: without a schemaVersion it is of version 1; a newer version than
   * this agent reads is refused (MCCS_ERR_CONFIG_VERSION) and nothing changes.
   */
  adoptMain(next: unknown, o: { force?: boolean } = {}): Promise<Readonly<MainConfig>> {
    return this.serial(async () => {
      const cur = this.current()
      const v = validateMain(next, { file: this.mainPath, unversioned: 'v1', ...this.ctx(cur.hb) })
      if (!v.ok) throw invalidConfigError(this.mainPath, v.errors)
      const gen = v.config.generation
      if (!(gen > cur.main.generation || (o.force && gen === cur.main.generation))) {
        throw new MccsError(
          'MCCS_ERR_CONFIG_GENERATION',
          `replicated configuration generation ${gen} is not newer than generation ${cur.main.generation} in force`,
          {
            subject: this.mainPath,
            field: '/generation',
            data: { expected: cur.main.generation + 1, current: cur.main.generation },
          },
        )
      }
      await this.replace(MAIN_FILE, cur.main, v.config)
      return this.set({ main: v.config, hb: cur.hb }).main
    })
  }

  /** Replaces hb.json; refused when the main.json in force would no longer be valid with it. */
  commitHb(next: HbConfig, o: { expectGeneration: number }): Promise<Readonly<HbConfig>> {
    return this.serial(async () => {
      const cur = this.current()
      checkGeneration(this.hbPath, o.expectGeneration, cur.hb.generation)
      const v = validateHb({ ...next, generation: cur.hb.generation + 1 }, { file: this.hbPath })
      if (!v.ok) throw invalidConfigError(this.hbPath, v.errors)
      const m = validateMain(cur.main, { file: this.mainPath, ...this.ctx(v.config) })
      if (!m.ok) throw invalidConfigError(this.hbPath, m.errors)
      await this.replace(HB_FILE, cur.hb, v.config)
      return this.set({ main: cur.main, hb: v.config }).hb
    })
  }

  /** hb.json as replicated by the coordinator (a live change, issue 16): written as it is, generation
   *  included, when newer than ours; refused when older or equal, or when main.json would not be valid with it. */
  adoptHb(next: HbConfig): Promise<Readonly<HbConfig>> {
    return this.serial(async () => {
      const cur = this.current()
      if (!(next.generation > cur.hb.generation))
        throw new MccsError(
          'MCCS_ERR_CONFIG_GENERATION',
          `hb.json generation ${next.generation} is not newer than generation ${cur.hb.generation} in force`,
          { field: '/generation' },
        )
      const v = validateHb(next, { file: this.hbPath })
      if (!v.ok) throw invalidConfigError(this.hbPath, v.errors)
      const m = validateMain(cur.main, { file: this.mainPath, ...this.ctx(v.config) })
      if (!m.ok) throw invalidConfigError(this.hbPath, m.errors)
      await this.replace(HB_FILE, cur.hb, v.config)
      return this.set({ main: cur.main, hb: v.config }).hb
    })
  }

  /**
   * hb.json and main.json as replicated together by the coordinator (a node renamed live: each file names
   * the node, so neither is valid with the other's old copy). Both newer than ours, kept at their own
   * generations; written through the import journal, so a crash between the two renames is finished at the
   * next load rather than leaving a pair that does not validate.
   */
  adoptPair(next: { hb: HbConfig; main: MainConfig }): Promise<Readonly<ConfigPair>> {
    return this.serial(async () => {
      const cur = this.current()
      for (const k of ['hb', 'main'] as const)
        if (!(next[k].generation > cur[k].generation))
          throw new MccsError(
            'MCCS_ERR_CONFIG_GENERATION',
            `${k === 'hb' ? HB_FILE : MAIN_FILE} generation ${next[k].generation} is not newer than generation ${cur[k].generation} in force`,
            { field: `/${k}/generation` },
          )
      const hb = validateHb(next.hb, { file: this.hbPath })
      if (!hb.ok) throw invalidConfigError(this.hbPath, hb.errors)
      const main = validateMain(next.main, { file: this.mainPath, ...this.ctx(hb.config) })
      if (!main.ok) throw invalidConfigError(this.mainPath, main.errors)
      const pair = { main: main.config, hb: hb.config }
      await writeFileAtomic(
        join(this.dir, PENDING_FILE),
        serialize({ main: versionedFile('main', pair.main), hb: versionedFile('hb', pair.hb) }),
      )
      await this.applyPair(pair)
      return this.set(pair)
    })
  }

  /** Both files in one JSON document (`mccs config export`). */
  export(): ConfigBundle {
    return structuredClone(this.current()) as ConfigBundle
  }

  /**
   * Validates a bundle and makes it the configuration in force, each file one generation above the
   * current one (generations never go back). Works on a directory whose files are missing or invalid:
   * that is how an operator recovers a node. `file` names the bundle in issues.
   */
  import(bundle: unknown, o: { file?: string; expectGeneration?: { main?: number; hb?: number } } = {}): Promise<Readonly<ConfigPair>> {
    return this.serial(async () => {
      const file = o.file ?? 'bundle'
      const b = bundle as Partial<Record<'main' | 'hb', unknown>> | null
      if (typeof b !== 'object' || b === null || typeof b.main !== 'object' || typeof b.hb !== 'object') {
        throw invalidConfigError(file, [
          {
            file,
            path: '',
            code: 'MCCS_ERR_CONFIG_SCHEMA',
            reason: 'must be an object with "main" and "hb" objects (the output of mccs config export)',
          },
        ])
      }
      const gen = {
        main: this.state?.main.generation ?? (await peekGeneration(this.mainPath)),
        hb: this.state?.hb.generation ?? (await peekGeneration(this.hbPath)),
      }
      if (o.expectGeneration?.main !== undefined) checkGeneration(this.mainPath, o.expectGeneration.main, gen.main)
      if (o.expectGeneration?.hb !== undefined) checkGeneration(this.hbPath, o.expectGeneration.hb, gen.hb)
      // A bundle is a file: without a schemaVersion in main or hb, that part is of version 1.
      const hb = validateHb({ ...b.hb, generation: gen.hb + 1 }, { file, unversioned: 'v1' })
      const issues = hb.ok ? [] : hb.errors.map((i) => ({ ...i, path: `/hb${i.path}` }))
      const main = validateMain(
        { ...b.main, generation: gen.main + 1 },
        { file, unversioned: 'v1', ...this.ctx(hb.ok ? hb.config : undefined) },
      )
      if (!main.ok) issues.push(...main.errors.map((i) => ({ ...i, path: `/main${i.path}` })))
      if (!hb.ok || !main.ok) throw invalidConfigError(file, issues)
      const next = { main: main.config, hb: hb.config }
      await writeFileAtomic(
        join(this.dir, PENDING_FILE),
        serialize({ main: versionedFile('main', next.main), hb: versionedFile('hb', next.hb) }),
      )
      await this.applyPair(next)
      return this.set(next)
    })
  }

  private ctx(hb: HbConfig | undefined): { hb?: HbConfig; types?: TypeCatalog } {
    return { ...(hb ? { hb } : {}), ...(this.opts.types ? { types: this.opts.types } : {}) }
  }

  private set(pair: ConfigPair): Readonly<ConfigPair> {
    // The logs scrub these values wherever they appear, even in a plugin's free text.
    rememberSecrets(pair, this.opts.types ? (t) => this.opts.types!.attributeSchema(t) : undefined)
    this.state = deepFreeze(pair)
    return this.state
  }

  private serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn)
    this.queue = run.catch(() => undefined)
    return run
  }

  /** `.prev` first: after a crash between the two renames both hold the old config, which is fine. */
  private async replace(name: typeof MAIN_FILE | typeof HB_FILE, prev: unknown, next: object): Promise<void> {
    const kind: ConfigKind = name === MAIN_FILE ? 'main' : 'hb'
    const older = this.older[kind]
    if (older) await this.keepOlder(kind, older.from, older.text)
    delete this.older[kind]
    // A raw string is the previous file's text, kept as it was even if it does not parse.
    if (prev !== undefined)
      await writeFileAtomic(
        join(this.dir, `${name}.prev`),
        typeof prev === 'string' ? prev : serialize(versionedFile(kind, prev as object)),
      )
    await writeFileAtomic(join(this.dir, name), serialize(versionedFile(kind, next)))
  }

  /**
   * A file of an older schema version, just loaded, is rewritten at the current one. Its original text
   * is kept first as `<file>.v<version>` (an earlier copy of that version is never replaced: it is the
   * one the operator may need to go back to the older agent). The migrated file keeps the operator's
   * text as written (no defaults filled in) and its generation: its content is the same configuration.
   */
  private async migrateFile(kind: ConfigKind, from: number, text: string): Promise<void> {
    const to = SCHEMA_VERSION[kind]
    const path = join(this.dir, kind === 'main' ? MAIN_FILE : HB_FILE)
    const { backup, fresh } = await this.keepOlder(kind, from, text)
    const parsed = readJson(text) // as validation read it (a byte order mark, for one, is fine)
    const r = parsed.ok ? readVersion(kind, parsed.value as Record<string, unknown>, path, 'v1') : undefined
    if (!r?.ok) return // cannot happen: the text was validated just before
    await writeFileAtomic(path, serialize(versionedFile(kind, r.doc)))
    this.opts.log?.log(
      'info',
      `${basename(path)} migrated from schema version ${from} to ${to}; the original is ${fresh ? 'kept' : 'not kept again (an earlier copy is)'} in ${backup}`,
      { file: path, from, to, backup },
    )
  }

  /** Writes `<file>.v<from>` with the older file's text, unless a copy of that version is there already. */
  private async keepOlder(kind: ConfigKind, from: number, text: string): Promise<{ backup: string; fresh: boolean }> {
    const backup = `${join(this.dir, kind === 'main' ? MAIN_FILE : HB_FILE)}.v${from}`
    const fresh = await stat(backup).then(
      () => false,
      () => true,
    )
    if (fresh) await writeFileAtomic(backup, text)
    return { backup, fresh }
  }

  /** Writes an imported pair (skipping a file already at its target generation), then drops the journal. */
  private async applyPair(next: ConfigPair): Promise<void> {
    for (const [name, value] of [
      [HB_FILE, next.hb],
      [MAIN_FILE, next.main],
    ] as const) {
      const path = join(this.dir, name)
      const onDisk = await readFile(path, 'utf8').catch(() => undefined)
      if (onDisk !== undefined && generationOf(onDisk) === value.generation) continue
      await this.replace(name, onDisk, value)
    }
    await rm(join(this.dir, PENDING_FILE), { force: true })
    await fsyncDir(this.dir)
  }

  /** An import interrupted by a crash is finished at the next load (the journal was validated before it was written). */
  private async rollForwardImport(): Promise<void> {
    const path = join(this.dir, PENDING_FILE)
    const text = await readFile(path, 'utf8').catch(() => undefined)
    if (text === undefined) return
    let pending: Partial<ConfigPair> = {}
    try {
      pending = JSON.parse(text) as Partial<ConfigPair>
    } catch {
      /* cannot happen (atomic write); dropped below */
    }
    // Types were checked at import time; a plugin missing now must not leave hb new and main old.
    const hb = validateHb(pending.hb, { file: path, unversioned: 'v1' })
    const main = hb.ok ? validateMain(pending.main, { file: path, unversioned: 'v1', hb: hb.config }) : undefined
    // A journal a newer agent wrote is its to finish: refused, kept (an older one would drop it below).
    const newer = [...(hb.ok ? [] : hb.errors), ...(main && !main.ok ? main.errors : [])]
    if (newer.some((i) => i.code === 'MCCS_ERR_CONFIG_VERSION')) throw invalidConfigError(path, newer)
    if (hb.ok && main?.ok) await this.applyPair({ main: main.config, hb: hb.config })
    else await rm(path, { force: true }) // never applied: the old pair is still whole
  }
}

/** Writes a minimal valid pair (generation 1, no groups) into a new configuration directory. */
export async function createInitial(
  dir: string,
  o: { cluster: string; nodes: (HbNode | { name: string; address: string })[]; link?: string; force?: boolean },
): Promise<ConfigPair> {
  await mkdir(dir, { recursive: true })
  if (!o.force) {
    for (const f of [MAIN_FILE, HB_FILE]) {
      if (
        await stat(join(dir, f)).then(
          () => true,
          () => false,
        )
      ) {
        throw new MccsError('MCCS_ERR_CONFLICT', `${f} already exists; refusing to overwrite a configuration`, { subject: join(dir, f) })
      }
    }
  }
  const link = o.link ?? 'link1'
  const nodes = o.nodes.map((n) => ('address' in n ? { name: n.name, addresses: { [link]: n.address } } : n))
  const hb = validateHb({ generation: 1, cluster: o.cluster, nodes, links: [{ name: link, priority: 0 }] }, { file: join(dir, HB_FILE) })
  if (!hb.ok) throw invalidConfigError(join(dir, HB_FILE), hb.errors)
  const main = validateMain({ generation: 1 }, { file: join(dir, MAIN_FILE), hb: hb.config })
  if (!main.ok) throw invalidConfigError(join(dir, MAIN_FILE), main.errors)
  await writeFileAtomic(join(dir, HB_FILE), serialize(versionedFile('hb', hb.config)))
  await writeFileAtomic(join(dir, MAIN_FILE), serialize(versionedFile('main', main.config)))
  return { main: main.config, hb: hb.config }
}

function serialize(v: unknown): string {
  return JSON.stringify(v, null, 2) + '\n'
}

function checkGeneration(file: string, expected: number, current: number): void {
  if (expected !== current) {
    throw new MccsError(
      'MCCS_ERR_CONFIG_GENERATION',
      `change is based on generation ${expected} but generation ${current} is in force; reload and retry`,
      {
        subject: file,
        field: '/generation',
        data: { expected, current },
      },
    )
  }
}

async function readConfigFile(path: string, issues: ConfigIssue[]): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8')
  } catch (e) {
    const err = e as NodeJS.ErrnoException
    issues.push({
      file: path,
      path: '',
      code: 'MCCS_ERR_CONFIG_MISSING',
      reason: err.code === 'ENOENT' ? 'file does not exist' : `cannot be read: ${err.message}`,
    })
    return undefined
  }
}

/**
 * Highest generation found in a file and its .prev, even a damaged one: an import must go past it,
 * or peers would see the imported configuration as older than the one it replaces.
 */
async function peekGeneration(path: string): Promise<number> {
  const texts = await Promise.all([path, `${path}.prev`].map((p) => readFile(p, 'utf8').catch(() => '')))
  return Math.max(...texts.map((t) => generationOf(t) || Number(/"generation"\s*:\s*(\d{1,15})/.exec(t)?.[1] ?? 0)))
}

function generationOf(text: string): number {
  try {
    const g = (JSON.parse(text) as { generation?: unknown } | null)?.generation
    return typeof g === 'number' && Number.isSafeInteger(g) && g >= 0 ? g : 0
  } catch {
    return 0
  }
}

function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !Object.isFrozen(v)) {
    Object.freeze(v)
    for (const x of Object.values(v)) deepFreeze(x)
  }
  return v
}

/** A short digest of a configuration's content (its canonical JSON): nodes at the same generation
 *  whose digests differ have diverged. */
export function configDigest(main: Readonly<MainConfig>): string {
  // Without the schema version: agents of neighbouring versions running one configuration agree.
  const { [VERSION_FIELD]: _v, ...content } = main as Readonly<MainConfig> & { [VERSION_FIELD]?: unknown }
  return createHash('sha256').update(canonicalJson(content)).digest('hex').slice(0, 16)
}

function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`
  if (v && typeof v === 'object') {
    return `{${Object.keys(v)
      .sort()
      .filter((k) => (v as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`
  }
  return JSON.stringify(v)
}
