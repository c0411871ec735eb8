// `mccs setup --rename <new>` on the host of a node the cluster renamed (issue 16, Rename node; docs/setup.md).
// The cluster renamed the node while it was stopped (`mccs node rename <old> <new>` on a member): its own
// hb.json and main.json still name it <old>, and its settings file too. An agent started under the old
// name is never admitted (no member's hb.json lists it: its heartbeats are dropped as from no node of the
// cluster, and theirs, addressed to <new>, are dropped here), so the host is renamed here, with its agent
// stopped: the settings file's nodeName, the node's entry in hb.json and every reference in main.json (at
// their generations, so the cluster's newer pair replaces them as soon as the agent joins), and the
// heartbeat state file's node. Each file is written atomically; run again after an interruption, it
// finishes what is left (a file already renamed is left as it is).
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import type { Bootstrap } from '../config/bootstrap.js'
import { writeFileAtomic } from '../config/atomic.js'
import { HB_FILE, MAIN_FILE } from '../config/store.js'
import type { HbConfig } from '../config/hb-model.js'
import { renameNodeInHb, renameNodeInMain } from '../config/node-rename.js'
import { validateHb, validateMain } from '../config/validate.js'
import { invalidConfigError } from '../config/issue.js'
import type { MainConfig } from '../engine/index.js'
import { MccsError } from '../errors.js'
import { checkName } from './first-node.js'
import { checkNodeNameWins, settingsFile } from './node-files.js'
import { exists } from './written-files.js'
import { readInstalled } from '../license/store.js'

export interface RenameResult {
  from: string
  to: string
  /** The files written (already renamed ones are not). */
  files: string[]
  /** The installed license names the old node: licenses are issued per node name, so one for the new name is needed. */
  licenseFor?: string
}

const serialize = (v: unknown) => JSON.stringify(v, null, 2) + '\n'

async function readDoc(file: string, field: string): Promise<Record<string, unknown>> {
  try {
    const v = JSON.parse(await readFile(file, 'utf8')) as unknown
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('not a JSON object')
    return v as Record<string, unknown>
  } catch (e) {
    throw new MccsError('MCCS_ERR_CONFIG_INVALID', `cannot read ${file}: ${(e as Error).message}`, { field, subject: file })
  }
}

/** Renames this host's node from the name its settings give it to `to`. `agentRunning`: its control socket answers. */
export async function renameThisNode(b: Bootstrap, raw: string | undefined, agentRunning: boolean): Promise<RenameResult> {
  const to = checkName(raw, '--rename', "the node's new name")
  if (agentRunning)
    throw new MccsError(
      'MCCS_ERR_CONFLICT',
      `this node's agent is running as ${b.nodeName}: a node must never run under two names; stop it first (systemctl stop mccs_agent), then rename it`,
      { field: '--rename', subject: b.nodeName },
    )
  await checkNodeNameWins(b, to).catch((e: MccsError) => {
    throw new MccsError(e.code, e.reason, { field: '--rename' })
  })
  const hbPath = path.join(b.configDir, HB_FILE)
  const mainPath = path.join(b.configDir, MAIN_FILE)
  const hbDoc = await readDoc(hbPath, '--rename')
  const mainDoc = await readDoc(mainPath, '--rename')
  const names = Array.isArray(hbDoc.nodes) ? (hbDoc.nodes as Array<{ name?: unknown }>).map((n) => n?.name) : []
  // The name this host had: its settings' name, or (run again after the settings were written) hb.json's.
  const from = b.nodeName
  if (from === to && !names.includes(to))
    throw new MccsError('MCCS_ERR_CONFLICT', `hb.json here has no node ${to}: this host is not that node`, { field: '--rename' })
  if (from !== to && !names.includes(from) && !names.includes(to))
    throw new MccsError(
      'MCCS_ERR_CONFLICT',
      `hb.json here has no node ${from} (this host's name): it is not a node of cluster ${String(hbDoc.cluster)}, nothing to rename`,
      { field: '--rename', subject: from },
    )
  if (from !== to && names.includes(from) && names.includes(to))
    throw new MccsError('MCCS_ERR_CONFLICT', `node name ${to} is already taken in cluster ${String(hbDoc.cluster)} (by another node)`, {
      field: '--rename',
    })
  const hb = renameNodeInHb(hbDoc as unknown as HbConfig, from, to)
  const main = renameNodeInMain(mainDoc as unknown as MainConfig, from, to)
  // Both checked together before either is written: a pair that would not load is never left behind.
  const vh = validateHb(serialize(hb), { file: hbPath })
  if (!vh.ok) throw invalidConfigError(hbPath, vh.errors)
  const vm = validateMain(serialize(main), { file: mainPath, hb: vh.config })
  if (!vm.ok) throw invalidConfigError(mainPath, vm.errors)
  const files: string[] = []
  const write = async (file: string, before: unknown, after: unknown, mode: number) => {
    if (JSON.stringify(before) === JSON.stringify(after)) return
    await writeFileAtomic(file, serialize(after), mode)
    files.push(file)
  }
  // main.json first: an interruption leaves hb.json naming the old node, which this command finds again.
  await write(mainPath, mainDoc, main, 0o640)
  await write(hbPath, hbDoc, hb, 0o640)
  const hbState = path.join(b.stateDir, 'heartbeat.json')
  if (await exists(hbState)) {
    const s = await readDoc(hbState, '--rename').catch(() => null)
    // The incarnation it last used stays its own under the new name (it must never go back).
    if (s && s.node === from) await write(hbState, s, { ...s, node: to }, 0o640)
  }
  const settings = settingsFile(b)
  const cur = (await exists(settings)) ? await readDoc(settings, '--rename') : {}
  // The settings last: until they name it, the agent starts as the old name and is not admitted.
  await write(settings, cur, { ...cur, nodeName: to }, 0o644)
  const lic = (await readInstalled(b.configDir)).license
  return { from, to, files, ...(lic && lic.type !== 'floating' && lic.node !== to ? { licenseFor: lic.node } : {}) }
}
