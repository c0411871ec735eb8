// Client side of the agent's control socket.
import net from 'node:net'
import { MccsError } from '../errors.js'

export async function rpc<T = unknown>(socketPath: string, method: string, params: Record<string, unknown> = {}, timeoutMs = 660_000): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const sock = net.connect(socketPath)
    let buf = ''
    const timer = setTimeout(() => { sock.destroy(); reject(new MccsError('MCCS_ERR_INTERNAL', `no answer from the agent within ${timeoutMs} ms`)) }, timeoutMs)
    sock.setEncoding('utf8')
    sock.on('connect', () => sock.write(JSON.stringify({ id: 1, method, params }) + '\n'))
    sock.on('data', (c: string) => {
      buf += c
      const i = buf.indexOf('\n')
      if (i < 0) return
      clearTimeout(timer)
      sock.end()
      const reply = JSON.parse(buf.slice(0, i)) as { ok: boolean; result?: T; error?: { code: string; message: string; field?: string } }
      if (reply.ok) resolve(reply.result as T)
      else reject(Object.assign(new Error(reply.error?.message ?? 'agent error'), { code: reply.error?.code, field: reply.error?.field }))
    })
    sock.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer)
      reject(e.code === 'ENOENT' || e.code === 'ECONNREFUSED'
        ? Object.assign(new Error(`the agent is not running (no control socket at ${socketPath})`), { code: 'MCCS_ERR_AGENT_DOWN' })
        : e)
    })
  })
}
