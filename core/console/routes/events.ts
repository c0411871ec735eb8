// GET /api/events: the console's live updates as Server-Sent Events (what is sent: ../events.ts).
import type { FastifyInstance } from 'fastify'
import type { EventClient } from '../events.js'
import type { RouteDeps } from './deps.js'

/** An `alive` frame this often: the console greys its view when the frames stop (a hung or stopped
 *  agent keeps the connection open and sends nothing — silence is the only sign). */
const ALIVE_MS = 500
/** A client that cannot keep up is dropped rather than buffered without end. */
const MAX_BUFFERED = 8 * 1024 * 1024

export function registerEventRoutes(app: FastifyInstance, deps: RouteDeps): void {
  app.get(
    '/api/events',
    {
      schema: { summary: 'Live status, log lines and operation log entries (text/event-stream)' },
    },
    async (req, reply) => {
      const session = req.mccsSession
      reply.hijack()
      const res = reply.raw
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        'x-accel-buffering': 'no',
        ...headersOf(reply.getHeaders()),
      })
      res.write(': connected\n\n')
      let closed = false
      const client: EventClient = {
        send: (event, data) => {
          if (closed) return
          if (res.writableLength > MAX_BUFFERED) {
            res.destroy()
            return
          }
          res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`)
        },
      }
      const keepalive = setInterval(() => {
        if (!closed && res.writableLength < MAX_BUFFERED) res.write('event: alive\ndata: {}\n\n')
      }, ALIVE_MS)
      keepalive.unref()
      let remove: (() => void) | undefined
      // A session ended by a logout or a password change (here or on another node) ends its streams,
      // saying why: the console shows the reason on its login page.
      const unwatch = deps.sessions.onEnded((s, reason) => {
        if (s !== session || closed) return
        res.write(`event: sessionEnded\ndata: ${JSON.stringify({ reason })}\n\n`)
        res.end()
      })
      res.on('close', () => {
        closed = true
        clearInterval(keepalive)
        unwatch()
        remove?.()
      })
      remove = await deps.events.add(client)
      if (closed) remove()
    },
  )
}

function headersOf(h: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(h)) if (typeof v === 'string' || typeof v === 'number') out[k] = String(v)
  return out
}
