// A minimal POSIX ustar writer and reader (regular files only) for support bundles: no dependency,
// and Debian's `tar -tzf` reads what it writes. gzip comes from node:zlib.
import { gzipSync, gunzipSync } from 'node:zlib'

export interface TarEntry {
  name: string
  data: Buffer
  mode?: number
  mtime?: Date
}

const BLOCK = 512

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, '0') + '\0'
}

/** ustar keeps 100 bytes of name plus a 155-byte prefix split at a '/'. */
function splitName(name: string): { name: string; prefix: string } {
  if (Buffer.byteLength(name) <= 100) return { name, prefix: '' }
  for (let i = name.indexOf('/'); i > 0; i = name.indexOf('/', i + 1)) {
    const prefix = name.slice(0, i)
    const rest = name.slice(i + 1)
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(rest) <= 100) return { name: rest, prefix }
  }
  throw new Error(`tar entry name is too long for ustar: ${name}`)
}

function header(e: TarEntry): Buffer {
  const h = Buffer.alloc(BLOCK)
  const { name, prefix } = splitName(e.name)
  h.write(name, 0, 100, 'utf8')
  h.write(octal(e.mode ?? 0o644, 8), 100, 'ascii')
  h.write(octal(0, 8), 108, 'ascii')
  h.write(octal(0, 8), 116, 'ascii')
  h.write(octal(e.data.length, 12), 124, 'ascii')
  h.write(octal(Math.floor((e.mtime ?? new Date()).getTime() / 1000), 12), 136, 'ascii')
  h.write('        ', 148, 'ascii') // checksum field counts as spaces while summing
  h.write('0', 156, 'ascii')
  h.write('ustar\0', 257, 'ascii')
  h.write('00', 263, 'ascii')
  h.write('root', 265, 'ascii')
  h.write('root', 297, 'ascii')
  h.write(prefix, 345, 155, 'utf8')
  let sum = 0
  for (const b of h) sum += b
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'ascii')
  return h
}

export function tar(entries: TarEntry[]): Buffer {
  const parts: Buffer[] = []
  for (const e of entries) {
    if (!e.name || e.name.startsWith('/') || e.name.split('/').includes('..')) throw new Error(`unsafe tar entry name: ${e.name}`)
    parts.push(header(e), e.data)
    const pad = (BLOCK - (e.data.length % BLOCK)) % BLOCK
    if (pad) parts.push(Buffer.alloc(pad))
  }
  parts.push(Buffer.alloc(BLOCK * 2))
  return Buffer.concat(parts)
}

export const tarGz = (entries: TarEntry[]): Buffer => gzipSync(tar(entries))

/** Reads what tar() writes (and plain ustar regular files from other writers). */
export function untar(buf: Buffer): TarEntry[] {
  const out: TarEntry[] = []
  for (let off = 0; off + BLOCK <= buf.length;) {
    const h = buf.subarray(off, off + BLOCK)
    if (h.every((b) => b === 0)) break
    const str = (s: number, n: number) =>
      h
        .subarray(s, s + n)
        .toString('utf8')
        .replace(/\0.*$/s, '')
    const size = parseInt(str(124, 12).trim() || '0', 8)
    const prefix = str(345, 155)
    const name = prefix ? `${prefix}/${str(0, 100)}` : str(0, 100)
    const type = str(156, 1)
    const data = buf.subarray(off + BLOCK, off + BLOCK + size)
    if (type === '0' || type === '')
      out.push({
        name,
        data: Buffer.from(data),
        mode: parseInt(str(100, 8).trim() || '0', 8),
        mtime: new Date(parseInt(str(136, 12).trim() || '0', 8) * 1000),
      })
    off += BLOCK + Math.ceil(size / BLOCK) * BLOCK
  }
  return out
}

export const untarGz = (buf: Buffer): TarEntry[] => untar(gunzipSync(buf))
