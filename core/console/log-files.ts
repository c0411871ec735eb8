// Reading the agent's log files for the console: the last lines of a file, and following a file as it
// grows (polled; a file that shrank was rotated or truncated and is read again from its start).
import { open, stat } from 'node:fs/promises'

const CHUNK = 64 * 1024

/** The last `n` lines of a file (newest last); [] when it does not exist. */
export async function tailLines(file: string, n: number): Promise<string[]> {
  let fh
  try { fh = await open(file, 'r') } catch { return [] }
  try {
    const { size } = await fh.stat()
    let pos = size
    let text = ''
    while (pos > 0 && text.split('\n').length <= n + 1) {
      const len = Math.min(CHUNK, pos)
      pos -= len
      const buf = Buffer.alloc(len)
      await fh.read(buf, 0, len, pos)
      text = buf.toString('utf8') + text
    }
    const lines = text.split('\n').filter((l) => l.length > 0)
    return lines.slice(-n)
  } finally {
    await fh.close()
  }
}

export class FileFollower {
  private offset = -1
  private partial = ''
  private timer: NodeJS.Timeout | undefined
  private reading = false

  constructor(readonly file: string, private readonly onLine: (line: string) => void, private readonly intervalMs = 200) {}

  async start(): Promise<void> {
    this.offset = await stat(this.file).then((s) => s.size, () => 0)
    this.timer = setInterval(() => void this.poll(), this.intervalMs)
    this.timer.unref()
  }

  stop(): void { clearInterval(this.timer) }

  async poll(): Promise<void> {
    if (this.reading) return
    this.reading = true
    try {
      const size = await stat(this.file).then((s) => s.size, () => 0)
      if (size < this.offset) { this.offset = 0; this.partial = '' }
      if (size === this.offset) return
      const fh = await open(this.file, 'r')
      try {
        const len = Math.min(size - this.offset, 4 * 1024 * 1024)
        const buf = Buffer.alloc(len)
        const { bytesRead } = await fh.read(buf, 0, len, this.offset)
        this.offset += bytesRead
        const parts = (this.partial + buf.subarray(0, bytesRead).toString('utf8')).split('\n')
        this.partial = parts.pop() ?? ''
        for (const l of parts) if (l) this.onLine(l)
      } finally {
        await fh.close()
      }
    } catch { /* the file is being rotated: next poll */ } finally {
      this.reading = false
    }
  }
}
