// The newest records of an operation log, for another node's console (issue 18, What 6): at most `limit`
// lines of the last `maxBytes` of the file, each a record this node wrote (a node tells its own story).
import { open } from 'node:fs/promises'
import type { OpRecord } from './oplog.js'

export async function oplogTail(file: string, node: string, limit: number, maxBytes: number): Promise<OpRecord[]> {
  const fh = await open(file, 'r').catch(() => null)
  if (!fh) return []
  let text: string
  let cut: boolean
  try {
    const { size } = await fh.stat()
    const len = Math.min(size, maxBytes)
    const buf = Buffer.alloc(len)
    await fh.read(buf, 0, len, size - len)
    text = buf.toString('utf8')
    cut = len < size
  } finally {
    await fh.close()
  }
  const lines = text.split('\n')
  if (cut) lines.shift() // a partial first line
  const out: OpRecord[] = []
  for (const line of lines) {
    if (!line) continue
    try {
      const r = JSON.parse(line) as OpRecord
      if (r && r.node === node && typeof r.at === 'string' && typeof r.command === 'string') out.push(r)
    } catch {
      /* a torn line */
    }
  }
  return out.slice(-limit)
}
