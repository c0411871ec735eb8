// Capability `state`: a small JSON store per resource (survives agent restarts). Written atomically
// (core/config/atomic.ts) so a crash never leaves half a file.
import { mkdir, readFile, unlink } from 'node:fs/promises'
import { writeFileAtomic } from '../../config/atomic.js'
import path from 'node:path'
import { MccsError } from '../../errors.js'
import { simpleMethod, type CapabilityProvider } from '../capabilities.js'

export const STATE_MAX_BYTES = 64 * 1024
const KEY = /^[A-Za-z0-9_.:-]{1,128}$/

export class StateStore {
  private readonly cache = new Map<string, Record<string, unknown>>()
  private readonly queues = new Map<string, Promise<void>>()
  constructor(private readonly dir: string) {}

  async all(resource: string): Promise<Record<string, unknown>> {
    const have = this.cache.get(resource)
    if (have) return have
    let data: Record<string, unknown> = {}
    try {
      const parsed = JSON.parse(await readFile(this.file(resource), 'utf8')) as unknown
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) data = parsed as Record<string, unknown>
    } catch { /* absent or unreadable: start empty */ }
    this.cache.set(resource, data)
    return data
  }

  async get(resource: string, key: string): Promise<unknown> {
    return (await this.all(resource))[checkKey(key)]
  }

  async set(resource: string, key: string, value: unknown): Promise<void> {
    checkKey(key)
    const cur = await this.all(resource)
    const next = { ...cur }
    if (value === undefined) delete next[key]
    else next[key] = value
    const text = JSON.stringify(next)
    if (text === undefined || Buffer.byteLength(text) > STATE_MAX_BYTES) {
      throw new MccsError('MCCS_ERR_CAPABILITY_ARGS', `the resource's state would exceed ${STATE_MAX_BYTES} bytes`, { field: `state.set: ${key}` })
    }
    this.cache.set(resource, next)
    await this.write(resource, text)
  }

  async delete(resource: string, key: string): Promise<void> {
    await this.set(resource, key, undefined)
  }

  /** Forgets a deleted resource. */
  async drop(resource: string): Promise<void> {
    this.cache.delete(resource)
    await unlink(this.file(resource)).catch(() => {})
  }

  private file(resource: string): string {
    return path.join(this.dir, `${encodeURIComponent(resource)}.json`)
  }

  private write(resource: string, text: string): Promise<void> {
    const prev = this.queues.get(resource) ?? Promise.resolve()
    const next = prev.then(async () => {
      await mkdir(this.dir, { recursive: true })
      await writeFileAtomic(this.file(resource), text, 0o600)
    })
    this.queues.set(resource, next.catch(() => {}))
    return next
  }
}

function checkKey(key: unknown): string {
  if (typeof key !== 'string' || !KEY.test(key)) {
    throw new MccsError('MCCS_ERR_CAPABILITY_ARGS', 'a key is 1-128 characters of A-Z a-z 0-9 _ . : -', { field: 'state key' })
  }
  return key
}

export function stateProvider(store: StateStore): CapabilityProvider {
  return {
    name: 'state',
    preload: (c) => store.all(c.resource),
    methods: {
      get: simpleMethod('state', async ([key], c) => store.get(c.resource, key as string)),
      set: simpleMethod('state', async ([key, value], c) => store.set(c.resource, key as string, value)),
      delete: simpleMethod('state', async ([key], c) => store.delete(c.resource, key as string)),
      all: simpleMethod('state', async (_a, c) => store.all(c.resource)),
    },
  }
}
