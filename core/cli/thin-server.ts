// The agent's side of the fast path (issue 19, What 2): the control socket's `cli` method runs a thin
// command (thin.ts) for bin/mccs-fast.pl, a client that starts no Node. It is the same code the thin entry
// runs in its own process (runThin: the same rpc to this agent's socket, the same printing, locale and exit
// code), here with the client's language and under the client's name, so the answer is byte for byte the
// one `node bin/mccs.cjs` prints. Whatever this agent cannot answer as that client would (another config
// folder, another user) is declined and the client runs its own Node entry.
import type { ThinCli } from '../api/control-server.js'
import { runThin, thinCommand } from './thin.js'
import { currentUser } from './user.js'

/** The rpc timeouts of the thin entry (control-client.ts's default, ops-cmd.ts's --timeout + 30 s) and a
 *  margin, so the client gives up only after the command's own timeout has answered. */
const timeoutS = (cmd: string, timeout: unknown): number => {
  if (cmd === 'status') return 660 + 30
  const t = typeof timeout === 'string' ? Number(timeout) : NaN
  return (Number.isFinite(t) && t > 0 ? t : 600) + 30 + 30
}

export function thinCli(own: { controlSocket: string; configDir: string }): ThinCli {
  return {
    start(req) {
      const picked = thinCommand(req.argv)
      if (!picked || req.configDir !== own.configDir || req.user !== currentUser()) return null
      const env: NodeJS.ProcessEnv = req.lang === undefined ? {} : { MCCS_LANG: req.lang }
      return {
        timeoutS: timeoutS(picked.cmd, picked.values.timeout),
        run: (io) => runThin(picked, own.controlSocket, async () => own.configDir, io, env),
      }
    },
  }
}
