// `mccs config import` on a node of a running cluster: main.json goes through the coordinator (replicated
// like any change); hb.json is not replicated, so an import that changes it is refused before anything
// is written — on every node the heartbeat configuration must be changed with the agents stopped.
import { readFile } from 'node:fs/promises'
import type { ConfigStore } from '../config/store.js'
import { readJson } from '../config/json-text.js'
import type { MainConfig } from '../engine/index.js'
import { isMccsError } from '../errors.js'
import { fixedField } from './hb-change.js'

export async function importIntoCluster(
  file: string,
  store: ConfigStore,
  commit: (main: MainConfig, expectGeneration: number) => Promise<void>,
): Promise<{ ok: boolean; text: string; issues: unknown[] }> {
  const refuse = (path: string, code: string, reason: string) => ({ ok: false, text: '', issues: [{ file, path, code, reason }] })
  const text = await readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => e)
  if (text instanceof Error) return refuse('', 'MCCS_ERR_NOT_FOUND', `cannot read ${file}: ${text.code ?? text.message}`)
  const parsed = readJson(text)
  if (!parsed.ok)
    return refuse('', 'MCCS_ERR_CONFIG_SYNTAX', `line ${parsed.error.line}, column ${parsed.error.column}: ${parsed.error.reason}`)
  const b = parsed.value as { main?: unknown; hb?: unknown } | null
  if (!b || typeof b !== 'object' || typeof b.main !== 'object' || b.main === null)
    return refuse('/main', 'MCCS_ERR_CONFIG_SCHEMA', 'must hold a main object (as `mccs config export` writes)')
  const cur = store.current()
  if (b.hb && typeof b.hb === 'object') {
    // These two never change live (hb-change.ts fixedField): say why, not only that the import differs.
    const h = b.hb as { cluster?: unknown; port?: unknown }
    for (const f of ['cluster', 'port'] as const)
      if (h[f] !== undefined && h[f] !== cur.hb[f]) return refuse(`/hb/${f}`, 'MCCS_ERR_INVALID', fixedField(f).reason)
  }
  if (b.hb !== undefined && !sameIgnoringGeneration(b.hb, cur.hb)) {
    return refuse(
      '/hb',
      'MCCS_ERR_CONFLICT',
      'differs from the hb.json in force: an import changes main.json only; change the heartbeat configuration with mccs hb (nodes, links, timing: live, through the coordinator)',
    )
  }
  try {
    await commit(b.main as MainConfig, cur.main.generation)
  } catch (err) {
    if (!isMccsError(err)) throw err
    const issues = (err.data as { issues?: unknown[] } | undefined)?.issues
    return { ok: false, text: '', issues: issues ?? [{ file, path: err.field ?? '', code: err.code, reason: err.message }] }
  }
  const now = store.current().main.generation
  return {
    ok: true,
    text: `imported ${file} through the coordinator: main.json generation ${now} (replicated), hb.json unchanged`,
    issues: [],
  }
}

function sameIgnoringGeneration(a: unknown, b: unknown): boolean {
  const strip = (v: unknown) => JSON.stringify(v, (k, x: unknown) => (k === 'generation' ? undefined : x))
  return strip(a) === strip(b)
}
