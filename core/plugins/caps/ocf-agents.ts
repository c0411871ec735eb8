// What the `exec:ocf/*` permission allows: the OCF resource agents installed under OCF_ROOT (Debian's
// resource-agents, Pacemaker's own), run with the OCF_ROOT the host sets. Agents source
// ${OCF_ROOT}/lib/heartbeat/ocf-shellfuncs, so OCF_ROOT (like OCF_FUNCTIONS_DIR) chooses code that runs as
// root: a plugin may never set it (exec.ts's allow-list refuses both), the host sets the one true value.
import { realpathSync } from 'node:fs'
import path from 'node:path'
import type { ExecRequest } from '../../../sdk/src/types.js'

export const OCF_ROOT = '/usr/lib/ocf'
export const OCF_AGENT_DIR = `${OCF_ROOT}/resource.d`

/** True when `file` is, on its real path, a file inside OCF_ROOT/resource.d (symlinks out and ../ refused). */
export function isOcfAgent(file: string): boolean {
  let real: string, realDir: string
  try {
    real = realpathSync(file)
    realDir = realpathSync(OCF_AGENT_DIR)
  } catch {
    return false
  }
  return real.startsWith(realDir + path.sep)
}

/**
 * In discover and validate the attributes come from the caller (the console's wizard, before anything is
 * committed): there an agent may only describe itself — `meta-data`, with no parameter — since parameters
 * such as ocf:heartbeat:anything's `binary` choose what an agent runs.
 */
export function isMetaDataCall(req: ExecRequest | undefined): boolean {
  const env = Object.keys(req?.env ?? {})
  return Array.isArray(req?.args) && req.args.length === 1 && req.args[0] === 'meta-data' && !env.some((k) => k.startsWith('OCF_RESKEY_'))
}

/** The variables the host adds to an agent's run (after the plugin's own, which cannot name them). */
export const ocfHostEnv = (file: string): Record<string, string> => (isOcfAgent(file) ? { OCF_ROOT } : {})
