// Client side of the agent's control socket.
import net from 'node:net'
import { MccsError } from '../errors.js'
import { readLines } from '../line-reader.js'

export async function rpc<T = unknown>(
  socketPath: string,
  method: string,
  params: Record<string, unknown> = {},
  timeoutMs = 660_000,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const sock = net.connect(socketPath)
    const timer = setTimeout(() => {
      sock.destroy()
      reject(new MccsError('MCCS_ERR_INTERNAL', `no answer from the agent within ${timeoutMs} ms`))
    }, timeoutMs)
    sock.on('connect', () => sock.write(JSON.stringify({ id: 1, method, params }) + '\n'))
    // The agent is trusted and an answer (a status, a log tail) has no set size: no bound on the line.
    const reader = readLines(sock, Infinity, (line) => {
      reader.set(() => {})
      clearTimeout(timer)
      sock.end()
      const reply = JSON.parse(line) as { ok: boolean; result?: T; error?: { code: string; message: string; field?: string } }
      // What the caller does with the answer (print a table of it) runs on the next turn of the event loop,
      // not in this one with the parsing: in the agent (thin-server.ts) neither turn then takes longer than
      // answering the status did.
      setImmediate(() => {
        if (reply.ok) resolve(reply.result as T)
        else reject(Object.assign(new Error(reply.error?.message ?? 'agent error'), { code: reply.error?.code, field: reply.error?.field }))
      })
    })
    sock.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer)
      reject(
        e.code === 'ENOENT' || e.code === 'ECONNREFUSED'
          ? Object.assign(new Error(`the agent is not running (no control socket at ${socketPath})`), { code: 'MCCS_ERR_AGENT_DOWN' })
          : e,
      )
    })
  })
}
