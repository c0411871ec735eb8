// Services one agent gives another over the peer channel for the console: this node's support bundle
// (fetched in chunks: a frame is at most 1 MiB of JSON) and its license (view, install). Any member of
// the cluster may ask (the channel is authenticated with the cluster key); nothing here changes
// resources.
import { randomBytes } from 'node:crypto'
import type { Bootstrap } from '../config/bootstrap.js'
import { collectNodeBundle } from '../support/bundle.js'
import { installLicense, nodeLicenseView, type LicenseView } from '../license/store.js'
import { MccsError } from '../errors.js'
import type { PeerRpc } from './peer-rpc.js'

export type ServiceMessage =
  | { t: 'support' }
  | { t: 'supportChunk'; id: string; offset: number }
  | { t: 'licenseView' }
  | { t: 'licenseInstall'; text: string }
  | { t: 'discover'; type: string; field: string; attrs: Record<string, unknown> }

const CHUNK = 512 * 1024
const KEEP_MS = 120_000

export class PeerServices {
  private readonly bundles = new Map<string, { data: Buffer; timer: NodeJS.Timeout }>()

  constructor(
    private readonly b: Bootstrap,
    private readonly status: () => Promise<unknown>,
    /** This node's running license watch: its judgement is the one the coordinator's engine takes. */
    private readonly license?: { current(): LicenseView; check(): Promise<void> },
  ) {}

  /** Answers these requests of other nodes over the peer protocol (the wizard's discover is the agent's). */
  serve(rpc: PeerRpc): void {
    const answer = (_from: string, m: ServiceMessage) => this.handle(m)
    rpc.serve<Exclude<ServiceMessage, { t: 'discover' }>>({
      support: answer,
      supportChunk: answer,
      licenseView: answer,
      licenseInstall: answer,
    })
  }

  /** Answers another node's request. */
  async handle(m: ServiceMessage): Promise<unknown> {
    switch (m.t) {
      case 'support': {
        const { data } = await collectNodeBundle({ bootstrap: this.b, status: this.status })
        const id = randomBytes(8).toString('hex')
        const timer = setTimeout(() => this.bundles.delete(id), KEEP_MS)
        timer.unref()
        this.bundles.set(id, { data, timer })
        return { id, size: data.length }
      }
      case 'supportChunk': {
        const b = this.bundles.get(String(m.id))
        if (!b) throw new MccsError('MCCS_ERR_NOT_FOUND', 'no such support bundle (expired?)', { field: 'id' })
        if (!Number.isSafeInteger(m.offset) || m.offset < 0 || m.offset > b.data.length)
          throw new MccsError('MCCS_ERR_INVALID', 'must be an offset inside the bundle', { field: 'offset' })
        const part = b.data.subarray(m.offset, m.offset + CHUNK)
        if (m.offset + part.length >= b.data.length) {
          clearTimeout(b.timer)
          this.bundles.delete(String(m.id))
        }
        return { data: part.toString('base64') }
      }
      case 'licenseView':
        return this.license ? this.license.current() : nodeLicenseView(this.b)
      case 'licenseInstall':
        if (typeof m.text !== 'string') throw new MccsError('MCCS_ERR_INVALID', 'must be the license text', { field: 'text' })
        await installLicense(this.b, m.text)
        if (!this.license) return nodeLicenseView(this.b)
        await this.license.check() // installed: in effect now, not at the next periodic check
        return this.license.current()
      default:
        throw new MccsError('MCCS_ERR_INVALID', 'unknown service request', { field: 't' })
    }
  }
}

/** Fetches another node's support bundle over `request` (the peer channel). */
export async function fetchSupportBundle(request: (msg: ServiceMessage, timeoutMs: number) => Promise<unknown>): Promise<Buffer> {
  const { id, size } = (await request({ t: 'support' }, 120_000)) as { id: string; size: number }
  const parts: Buffer[] = []
  let got = 0
  while (got < size) {
    const { data } = (await request({ t: 'supportChunk', id, offset: got }, 30_000)) as { data: string }
    const part = Buffer.from(data, 'base64')
    if (!part.length) throw new MccsError('MCCS_ERR_INTERNAL', `support bundle ended at ${got} of ${size} bytes`)
    parts.push(part)
    got += part.length
  }
  return Buffer.concat(parts)
}
