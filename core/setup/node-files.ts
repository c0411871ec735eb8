// The per-node files setup writes besides main.json and hb.json: the node's name in the settings file
// (<config>/mccs.config.json, where the agent reads it: the host name may differ from the node name),
// and the setup record (<config>/setup.json: the language chosen and how this node was set up).
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import type { Bootstrap } from '../config/bootstrap.js'
import { SETTINGS_FILES } from '../config/bootstrap.js'
import { MccsError } from '../errors.js'
import { exists, type WrittenFiles } from './written-files.js'
import { writeFileAtomic } from '../config/atomic.js'

export const LANGUAGES = ['ko', 'en'] as const
export type Language = (typeof LANGUAGES)[number]
export const SETUP_FILE = 'setup.json'

export interface SetupRecord {
  /** The language the operator chose (manual 3.2.1: Korean or English, Korean by default). */
  language: Language
  /** single: one server (manual 3.2.1 step 7); cluster: other nodes join with mccs node add + setup --join. */
  mode: 'single' | 'cluster'
  at: string
  /** The member this node joined through (mccs setup --join). */
  joinedVia?: string
}

export function checkLanguage(v: string | undefined): Language {
  const l = v ?? 'ko'
  if (!(LANGUAGES as readonly string[]).includes(l))
    throw new MccsError('MCCS_ERR_INVALID', `'${l}' is not a language MCCS offers: ko (Korean, the default) or en (English)`, {
      field: '--lang',
    })
  return l as Language
}

export async function readSetupRecord(configDir: string): Promise<SetupRecord | null> {
  try {
    return JSON.parse(await readFile(path.join(configDir, SETUP_FILE), 'utf8')) as SetupRecord
  } catch {
    return null
  }
}

/** The settings file setup writes the node name into. */
export const settingsFile = (b: Bootstrap): string => path.join(b.configDir, SETTINGS_FILES[0]!)

/**
 * Refuses a node name the agent would not use: MCCS_NODE_NAME or a settings file elsewhere (/etc/mccs, or
 * the one MCCS_CONFIG names) that says otherwise would win over what setup writes.
 */
export async function checkNodeNameWins(b: Bootstrap, name: string): Promise<void> {
  if (b.source.env.includes('MCCS_NODE_NAME') && b.nodeName !== name) {
    throw new MccsError('MCCS_ERR_CONFLICT', `MCCS_NODE_NAME says this node is ${b.nodeName}; unset it or set up ${b.nodeName}`, {
      field: '--name',
    })
  }
  const mine = settingsFile(b)
  if (b.source.file && b.source.file !== mine) {
    const text = await readFile(b.source.file, 'utf8').catch(() => '')
    if (/nodeName/.test(text) && b.nodeName !== name) {
      throw new MccsError(
        'MCCS_ERR_CONFLICT',
        `the settings file ${b.source.file} names this node ${b.nodeName}; change it there or set up ${b.nodeName}`,
        { field: '--name' },
      )
    }
  }
}

/** Writes nodeName into the settings file (other settings kept), and the setup record. */
export async function writeNodeFiles(b: Bootstrap, w: WrittenFiles, name: string, record: SetupRecord): Promise<void> {
  const file = settingsFile(b)
  if (await exists(file)) {
    let cur: Record<string, unknown>
    try {
      cur = JSON.parse(await readFile(file, 'utf8')) as Record<string, unknown>
    } catch (e) {
      throw new MccsError('MCCS_ERR_BOOTSTRAP', `cannot add the node name: ${(e as Error).message}`, { subject: file })
    }
    if (cur.nodeName !== name) {
      // An existing settings file (the package ships one) keeps its other values; the old text comes back on rollback.
      const before = await readFile(file, 'utf8')
      await writeFileAtomic(file, JSON.stringify({ ...cur, nodeName: name }, null, 2) + '\n', 0o644)
      w.onRollback(() => writeFileAtomic(file, before, 0o644))
    }
  } else {
    await w.create(file, JSON.stringify({ nodeName: name }, null, 2) + '\n', 0o644)
  }
  await w.create(path.join(b.configDir, SETUP_FILE), JSON.stringify(record, null, 2) + '\n', 0o644)
}
