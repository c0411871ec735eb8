// Host checks of a mirror-disk's attributes on this node, for validate (issue 15, acceptance 8): the
// backing device or file exists, is big enough, is not mounted or used as swap (nor a partition of
// it); the replication port is free on an address of this node; the mount point is not inside another
// resource's mount point (nor contains one). Each finding names the attribute.
import fs from 'node:fs'
import net from 'node:net'
import path from 'node:path'

export interface InspectFinding {
  field: string
  reason: string
}
export interface InspectInput {
  backing?: unknown
  size?: unknown
  replicationAddress?: unknown
  port?: unknown
  mountPoint?: unknown
}

const SIZE_RE = /^([0-9]+)([KMGT]?)$/
export function parseSize(s: string): number | null {
  const m = SIZE_RE.exec(s)
  if (!m) return null
  return Number(m[1]) * 1024 ** ' KMGT'.indexOf(m[2] || ' ')
}

function sizeOf(file: string, st: fs.Stats): number | null {
  if (st.isFile()) return st.size
  const dev = path.basename(fs.realpathSync(file))
  try {
    return Number(fs.readFileSync(`/sys/class/block/${dev}/size`, 'utf8').trim()) * 512
  } catch {
    return null
  }
}

/** Mounted sources and swap areas, as real paths. */
function inUse(): Map<string, string> {
  const out = new Map<string, string>()
  const real = (p: string): string => {
    try {
      return fs.realpathSync(p)
    } catch {
      return p
    }
  }
  for (const l of fs.readFileSync('/proc/self/mounts', 'utf8').split('\n')) {
    const [src, mp] = l.split(' ')
    if (src?.startsWith('/')) out.set(real(src), `mounted at ${mp}`)
  }
  try {
    for (const l of fs.readFileSync('/proc/swaps', 'utf8').split('\n').slice(1)) {
      const src = l.split(/\s+/)[0]
      if (src?.startsWith('/')) out.set(real(src), 'used as swap')
    }
  } catch {
    /* no swap info */
  }
  // Loop devices: their backing files are in use by whoever set them up.
  try {
    for (const d of fs.readdirSync('/sys/block').filter((x) => x.startsWith('loop'))) {
      try {
        const f = fs.readFileSync(`/sys/block/${d}/loop/backing_file`, 'utf8').trim()
        if (f) out.set(real(f), `the backing file of /dev/${d}`)
      } catch {
        /* not set up */
      }
    }
  } catch {
    /* no sysfs */
  }
  return out
}

function portFree(host: string, port: number): Promise<InspectFinding | null> {
  return new Promise((resolve) => {
    const s = net.createServer()
    s.once('error', (e: NodeJS.ErrnoException) =>
      resolve(
        e.code === 'EADDRINUSE'
          ? { field: 'port', reason: `port ${port} is already in use on ${host}` }
          : e.code === 'EADDRNOTAVAIL'
            ? { field: 'replicationAddress', reason: `${host} is not an address of this node` }
            : { field: 'port', reason: `cannot listen on ${host}:${port} (${e.code ?? e.message})` },
      ),
    )
    s.listen({ host, port, exclusive: true }, () => s.close(() => resolve(null)))
  })
}

const inside = (a: string, b: string): boolean => a === b || a.startsWith(b.endsWith('/') ? b : `${b}/`)

/** `ownListen`: this resource's own daemon already listens there (re-validating a running volume).
 *  `others`: the mount points of the other resources of the cluster. */
export async function inspectAttrs(
  a: InspectInput,
  o: { ownListen?: boolean; others: Array<{ resource: string; mountPoint: string }> },
): Promise<InspectFinding[]> {
  const f: InspectFinding[] = []
  if (typeof a.backing === 'string' && a.backing.startsWith('/')) {
    let st: fs.Stats | null = null
    try {
      st = fs.statSync(a.backing)
    } catch {
      f.push({ field: 'backing', reason: `${a.backing} does not exist on this node` })
    }
    if (st && !st.isFile() && !st.isBlockDevice())
      f.push({ field: 'backing', reason: `${a.backing} is neither a regular file nor a block device` })
    if (st) {
      const real = fs.realpathSync(a.backing)
      const used = inUse()
      const own = used.get(real)
      if (own) f.push({ field: 'backing', reason: `${a.backing} is ${own}: the mirror would overwrite it` })
      if (st.isBlockDevice()) {
        // A partition of this disk in use is as bad as the disk itself.
        const dev = path.basename(real)
        let parts: string[] = []
        try {
          parts = fs.readdirSync(`/sys/class/block/${dev}`).filter((x) => x.startsWith(dev))
        } catch {
          /* not a whole disk */
        }
        for (const p of parts) {
          const u = used.get(`/dev/${p}`)
          if (u) f.push({ field: 'backing', reason: `its partition /dev/${p} is ${u}` })
        }
      }
      if (typeof a.size === 'string') {
        const want = parseSize(a.size)
        const have = sizeOf(a.backing, st)
        if (want !== null && have !== null && have < want)
          f.push({ field: 'backing', reason: `${a.backing} holds ${have} bytes, less than the volume's size ${a.size} (${want} bytes)` })
      }
    }
  }
  if (typeof a.replicationAddress === 'string' && !o.ownListen) {
    const port = a.port === undefined ? 7789 : a.port
    if (Number.isInteger(port)) {
      const p = await portFree(a.replicationAddress, port as number)
      if (p) f.push(p)
    }
  }
  if (typeof a.mountPoint === 'string') {
    for (const x of o.others) {
      if (inside(a.mountPoint, x.mountPoint))
        f.push({ field: 'mountPoint', reason: `${a.mountPoint} is inside ${x.resource}'s mount point ${x.mountPoint}` })
      else if (inside(x.mountPoint, a.mountPoint))
        f.push({ field: 'mountPoint', reason: `${a.mountPoint} contains ${x.resource}'s mount point ${x.mountPoint}` })
    }
  }
  return f
}
