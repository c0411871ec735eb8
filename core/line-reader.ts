// Newline-delimited messages on a socket (the control socket, the agent-to-agent channel): one reader,
// a bound on line length (an oversize line ends the connection), and a handler that can be swapped
// mid-stream without losing lines already buffered (a handshake handing over to the framed protocol).
import type net from 'node:net'

export type LineHandler = (line: string) => void

export function readLines(sock: net.Socket, maxLine: number, first: LineHandler): { set(h: LineHandler): void } {
  let onLine = first
  let buf = ''
  sock.setEncoding('utf8')
  sock.on('data', (chunk: string) => {
    buf += chunk
    if (buf.length > maxLine) { sock.destroy(); return }
    let i
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i)
      buf = buf.slice(i + 1)
      onLine(line)
      if (sock.destroyed) return
    }
  })
  return { set: (h) => { onLine = h } }
}
