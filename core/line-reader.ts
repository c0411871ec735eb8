// Newline-delimited messages on a socket, the one framer every line protocol uses (the control socket
// and its client, the agent-to-agent channel, the quorum server and client, QMP). Each caller gives its
// own bound on a line and decides what an oversized line does (end the connection, answer a protocol
// error). The bound is in bytes and holds for a whole line and for one still unfinished, so a peer that
// never sends '\n' cannot grow the buffer; short lines arriving together are never taken for a long one.
import type net from 'node:net'

export type LineHandler = (line: string) => void

/** Splits a byte stream into lines (without their '\n'), each at most `maxLine` bytes. */
export class LineFramer {
  private parts: Buffer[] = []
  private size = 0

  constructor(readonly maxLine: number) {}

  /**
   * Feeds one chunk; calls `onLine` for each line it completes. A handler answering false stops the chunk
   * (its rest is dropped: the caller is done with the stream). Returns false when a line, whole or not,
   * is longer than maxLine: that line and the rest of the chunk are dropped and the framer starts empty.
   */
  push(chunk: Buffer | string, onLine: (line: string) => boolean | void): boolean {
    // Bytes, not characters: decoding waits for the '\n', so a character split between chunks stays whole.
    const b = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk
    let start = 0
    for (let i = b.indexOf(10); i >= 0; i = b.indexOf(10, start)) {
      if (this.size + i - start > this.maxLine) return this.overflow()
      const piece = b.subarray(start, i)
      const line = (this.size ? Buffer.concat([...this.parts, piece]) : piece).toString('utf8')
      this.parts = []
      this.size = 0
      start = i + 1
      if (onLine(line) === false) return true
    }
    if (this.size + b.length - start > this.maxLine) return this.overflow()
    if (start < b.length) {
      this.parts.push(b.subarray(start))
      this.size += b.length - start
    }
    return true
  }

  private overflow(): false {
    this.parts = []
    this.size = 0
    return false
  }
}

/**
 * Reads `sock` line by line. An oversized line calls `onOversize` (default: end the connection). The
 * handler can be swapped mid-stream without losing lines already buffered (a handshake handing over to
 * the framed protocol); once the socket is destroyed no further line is handed out.
 */
export function readLines(
  sock: net.Socket,
  maxLine: number,
  first: LineHandler,
  onOversize: () => void = () => sock.destroy(),
): { set(h: LineHandler): void } {
  let onLine = first
  const framer = new LineFramer(maxLine)
  sock.on('data', (chunk: Buffer | string) => {
    if (sock.destroyed) return
    const ok = framer.push(chunk, (line) => {
      onLine(line)
      return !sock.destroyed
    })
    if (!ok) onOversize()
  })
  return {
    set: (h) => {
      onLine = h
    },
  }
}
