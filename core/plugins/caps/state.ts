// Capability `state`: a small JSON store per resource (survives agent restarts). Written atomically
// (core/config/atomic.ts) so a crash never leaves half a file. A store that is not a JSON object is kept
// aside (<file>.corrupt-<time>) with an error naming it, and the plugin starts from an empty store (as on
// its first run); a file that cannot be read at all fails the call, so nothing is written over it.
import { mkdir, readFile, unlink } from 'node:fs/promises'
import { writeFileAtomic } from '../../config/atomic.js'
import { keepAside } from '../../config/keep-aside.js'
import type { Log } from '../../log/logger.js'
import path from 'node:path'
import { MccsError } from '../../errors.js'
import { simpleMethod, type CapabilityProvider } from '../capabilities.js'

export const STATE_MAX_BYTES = 64 * 1024
const KEY = /^[A-Za-z0-9_.:-]{1,128}$/

export class StateStore {
  private readonly cache = new Map<string, Record<string, unknown>>()
  private readonly queues = new Map<string, Promise<void>>()
  private readonly loading = new Map<string, Promise<Record<string, unknown>>>()
  constructor(
    private readonly dir: string,
    private readonly log: Pick<Log, 'log'> = stderrLog,
  ) {}

  async all(resource: string): Promise<Record<string, unknown>> {
    const have = this.cache.get(resource)
    if (have) return have
    // One read per resource even when hooks ask at once: a corrupt file is kept aside (and logged) once.
    let loading = this.loading.get(resource)
    if (!loading) {
      loading = this.load(resource)
        .then((data) => {
          if (!this.cache.has(resource)) this.cache.set(resource, data)
          return this.cache.get(resource)!
        })
        .finally(() => this.loading.delete(resource))
      this.loading.set(resource, loading)
    }
    return await loading
  }

  private async load(resource: string): Promise<Record<string, unknown>> {
    const file = this.file(resource)
    let text: string
    try {
      text = await readFile(file, 'utf8')
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {}
      throw new MccsError('MCCS_ERR_CAPABILITY_FAILED', `the resource's state file ${file} cannot be read: ${(e as Error).message}`, {
        subject: resource,
        field: 'state',
      })
    }
    let parsed: unknown
    try {
      parsed = JSON.parse(text)
    } catch (e) {
      return await this.corrupt(resource, file, `not JSON: ${(e as Error).message}`)
    }
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) return await this.corrupt(resource, file, 'not a JSON object')
    return parsed as Record<string, unknown>
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
      throw new MccsError('MCCS_ERR_CAPABILITY_ARGS', `the resource's state would exceed ${STATE_MAX_BYTES} bytes`, {
        field: `state.set: ${key}`,
      })
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

  private async corrupt(resource: string, file: string, reason: string): Promise<Record<string, unknown>> {
    const keptAs = await keepAside(file)
    this.log.log(
      'error',
      `plugin state of ${resource} (${file}) is unusable (${reason}); ${keptAs ? `kept as ${keptAs}` : 'could not be moved aside'}; the plugin starts from an empty state`,
      { code: 'MCCS_ERR_STATE_CORRUPT', resource, file, keptAs, reason },
    )
    return {}
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
    this.queues.set(
      resource,
      next.catch(() => {}),
    )
    return next
  }
}

/** Without the agent's log (tests, the SDK's test host): the error still reaches someone. */
const stderrLog: Pick<Log, 'log'> = {
  log: (level, msg) => {
    process.stderr.write(`mccs ${level}: ${msg}\n`)
  },
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
