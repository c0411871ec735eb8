// Reading the agent's log files for the console: the last lines of a file, and following a file as it
// grows (polled; a file that shrank was rotated or truncated and is read again from its start).
import { open, stat } from 'node:fs/promises'

const CHUNK = 64 * 1024

/** The last `n` lines of a file (newest last); [] when it does not exist. */
export async function tailLines(file: string, n: number): Promise<string[]> {
  let fh
  try {
    fh = await open(file, 'r')
  } catch {
    return []
  }
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

/** A page of a log file: up to `n` whole lines that end before byte `before` (default: the end), with the
 *  byte range they cover — `from` is where to ask for the page before this one (0: the start of the file). */
export async function linesBefore(
  file: string,
  n: number,
  before?: number,
): Promise<{ lines: string[]; from: number; to: number; size: number }> {
  let fh
  try {
    fh = await open(file, 'r')
  } catch {
    return { lines: [], from: 0, to: 0, size: 0 }
  }
  try {
    const { size } = await fh.stat()
    const to = Math.min(before ?? size, size)
    let pos = to
    let buf = Buffer.alloc(0)
    // Read back in chunks until n + 1 newlines (the one before the first line) or the start of the file.
    const newlines = () => {
      let c = 0
      for (const b of buf) if (b === 10) c++
      return c
    }
    while (pos > 0 && newlines() <= n) {
      const len = Math.min(CHUNK, pos)
      pos -= len
      const chunk = Buffer.alloc(len)
      await fh.read(chunk, 0, len, pos)
      buf = Buffer.concat([chunk, buf])
    }
    // Cut at line starts: the page begins after a newline (or at the file's start), and ends at `to`,
    // dropping a partial last line only when `to` is the end of a file still being written.
    let end = buf.length
    if (before === undefined && end > 0 && buf[end - 1] !== 10) end = buf.lastIndexOf(10) + 1
    const starts: number[] = pos === 0 ? [0] : []
    for (let i = 0; i < end; i++) if (buf[i] === 10 && i + 1 < end) starts.push(i + 1)
    const first = starts.length > n ? starts[starts.length - n]! : (starts[0] ?? end)
    const text = buf.subarray(first, end).toString('utf8')
    return { lines: text.split('\n').filter((l) => l.length > 0), from: pos + first, to: pos + end, size }
  } finally {
    await fh.close()
  }
}

export class FileFollower {
  private offset = -1
  private partial = ''
  private timer: NodeJS.Timeout | undefined
  private reading = false

  constructor(
    readonly file: string,
    private readonly onLine: (line: string) => void,
    private readonly intervalMs = 200,
  ) {}

  async start(): Promise<void> {
    this.offset = await stat(this.file).then(
      (s) => s.size,
      () => 0,
    )
    this.timer = setInterval(() => void this.poll(), this.intervalMs)
    this.timer.unref()
  }

  stop(): void {
    clearInterval(this.timer)
  }

  async poll(): Promise<void> {
    if (this.reading) return
    this.reading = true
    try {
      const size = await stat(this.file).then(
        (s) => s.size,
        () => 0,
      )
      if (size < this.offset) {
        this.offset = 0
        this.partial = ''
      }
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
    } catch {
      /* the file is being rotated: next poll */
    } finally {
      this.reading = false
    }
  }
}
