// The MCCS license text (manual 5.4): `key=value` lines, `#` comments, signed with Ed25519 over the
// canonical form of its fields (fixed order, `signature` left out), so whitespace, comments and field
// order in the file do not matter but any change of a value does.
//
//   product=MCCS
//   type=term                  term | nodelock | floating
//   node=n1                    the node the license is for
//   hostId=ANY                 ANY (term) or one of the node's MAC addresses (nodelock; term may name one)
//   issued=2026-11-25T00:00:00Z
//   expires=2026-12-25T00:00:00Z   term: required; nodelock: not allowed; floating: optional
//   server=lic.example:5053    floating only: the license server
//   count=30                   floating only: seats
//   licensee=ACME              optional, free text
//   keyId=<16 hex>             which key signed it (sha-256 of the public key, first 8 bytes)
//   signature=<base64>
import { createHash, createPublicKey, createPrivateKey, sign, verify, type KeyObject } from 'node:crypto'
import { MccsError } from '../errors.js'

export const LICENSE_TYPES = ['term', 'nodelock', 'floating'] as const
export type LicenseType = (typeof LICENSE_TYPES)[number]

export interface License {
  product: 'MCCS'
  type: LicenseType
  node: string
  /** 'ANY' or a MAC address, lower case with colons. */
  hostId: string
  issued: string
  expires?: string
  server?: string
  count?: number
  licensee?: string
  keyId: string
  signature: string
}

const ORDER = ['product', 'type', 'node', 'hostId', 'issued', 'expires', 'server', 'count', 'licensee', 'keyId'] as const
const KNOWN = new Set<string>([...ORDER, 'signature'])
const NODE = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/
export const MAC = /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/
const DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2}))?$/
export const MAX_LICENSE_BYTES = 16 * 1024

const bad = (field: string, reason: string, code: 'MCCS_ERR_LICENSE_FORMAT' | 'MCCS_ERR_LICENSE_TYPE' = 'MCCS_ERR_LICENSE_FORMAT') =>
  new MccsError(code, reason, { field: `/${field}` })

/** Text -> License, or MCCS_ERR_LICENSE_FORMAT / _TYPE naming the field. Checks form only, not trust. */
export function parseLicense(text: unknown): License {
  if (typeof text !== 'string' || !text.trim())
    throw new MccsError('MCCS_ERR_LICENSE_FORMAT', 'must be the text of an MCCS license', { field: '/text' })
  if (Buffer.byteLength(text) > MAX_LICENSE_BYTES)
    throw new MccsError('MCCS_ERR_LICENSE_FORMAT', `is longer than ${MAX_LICENSE_BYTES} bytes`, { field: '/text' })
  const f: Record<string, string> = {}
  text.split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim()
    if (!line || line.startsWith('#')) return
    const eq = line.indexOf('=')
    if (eq <= 0)
      throw new MccsError('MCCS_ERR_LICENSE_FORMAT', `line ${i + 1} is not key=value: ${JSON.stringify(line.slice(0, 60))}`, {
        field: '/text',
      })
    const k = line.slice(0, eq).trim()
    const v = line.slice(eq + 1).trim()
    // A key that is not a plain name is not echoed as a field (it may hold control characters).
    if (!/^[A-Za-z][A-Za-z0-9_-]{0,31}$/.test(k))
      throw new MccsError('MCCS_ERR_LICENSE_FORMAT', `line ${i + 1}: ${JSON.stringify(k.slice(0, 40))} is not a field name`, {
        field: '/text',
      })
    if (!KNOWN.has(k)) throw bad(k, `unknown field (line ${i + 1}); known: ${[...KNOWN].join(', ')}`)
    if (k in f) throw bad(k, `appears twice (line ${i + 1})`)
    f[k] = v
  })
  for (const k of ['product', 'type', 'node', 'hostId', 'issued', 'keyId', 'signature']) if (!f[k]) throw bad(k, 'is missing')
  if (f.product !== 'MCCS')
    throw new MccsError(
      'MCCS_ERR_LICENSE_UNSUPPORTED',
      `must be MCCS: this is a license for another product (${f.product!.slice(0, 60)})`,
      { field: '/product' },
    )
  const type = f.type as LicenseType
  if (!LICENSE_TYPES.includes(type))
    throw bad('type', `unknown license type ${JSON.stringify(f.type)}; one of ${LICENSE_TYPES.join(', ')}`, 'MCCS_ERR_LICENSE_TYPE')
  if (!NODE.test(f.node!)) throw bad('node', 'is not a node name')
  const hostId = f.hostId === 'ANY' ? 'ANY' : f.hostId!.toLowerCase().replace(/-/g, ':')
  if (hostId !== 'ANY' && !MAC.test(hostId)) throw bad('hostId', 'must be ANY or a MAC address (aa:bb:cc:dd:ee:ff)')
  if (type === 'nodelock' && hostId === 'ANY') throw bad('hostId', "a nodelock license names one of the node's MAC addresses, not ANY")
  for (const k of ['issued', 'expires'] as const) {
    if (f[k] !== undefined && (!DATE.test(f[k]!) || Number.isNaN(Date.parse(f[k]!))))
      throw bad(k, 'must be a date (YYYY-MM-DD or ISO 8601 with a zone)')
  }
  if (type === 'term' && !f.expires) throw bad('expires', 'a term license must have an expiry date')
  if (type === 'nodelock' && f.expires) throw bad('expires', 'a nodelock (full) license has no expiry date; use type=term')
  if (f.expires && Date.parse(f.expires) <= Date.parse(f.issued!)) throw bad('expires', 'must be after issued')
  if (type === 'floating') {
    if (!f.server || !/^[A-Za-z0-9.-]{1,253}:\d{1,5}$/.test(f.server))
      throw bad('server', 'a floating license names its license server as host:port')
    if (!f.count || !/^[1-9]\d{0,5}$/.test(f.count)) throw bad('count', 'a floating license names a seat count (1..999999)')
  } else {
    for (const k of ['server', 'count'] as const) if (f[k] !== undefined) throw bad(k, 'only a floating license has this field')
  }
  if (!/^[0-9a-f]{16}$/.test(f.keyId!)) throw bad('keyId', 'must be 16 hex digits')
  if (!/^[A-Za-z0-9+/]{86}==$/.test(f.signature!)) throw bad('signature', 'must be a base64 Ed25519 signature (88 characters)')
  if (f.licensee !== undefined && f.licensee.length > 200) throw bad('licensee', 'is longer than 200 characters')
  return {
    product: 'MCCS',
    type,
    node: f.node!,
    hostId,
    issued: f.issued!,
    keyId: f.keyId!,
    signature: f.signature!,
    ...(f.expires ? { expires: f.expires } : {}),
    ...(f.server ? { server: f.server } : {}),
    ...(f.count ? { count: Number(f.count) } : {}),
    ...(f.licensee ? { licensee: f.licensee } : {}),
  }
}

/** The signed bytes: every field but the signature, in a fixed order. */
export function canonical(l: Omit<License, 'signature'>): Buffer {
  const rec = l as unknown as Record<string, unknown>
  return Buffer.from(
    'MCCS-LICENSE-1\n' +
      ORDER.filter((k) => rec[k] !== undefined)
        .map((k) => `${k}=${String(rec[k])}\n`)
        .join(''),
  )
}

export function keyIdOf(pub: KeyObject): string {
  return createHash('sha256')
    .update(pub.export({ type: 'spki', format: 'der' }))
    .digest('hex')
    .slice(0, 16)
}

export function publicKeys(pemText: string): KeyObject[] {
  const blocks = pemText.match(/-----BEGIN PUBLIC KEY-----[\s\S]*?-----END PUBLIC KEY-----/g) ?? []
  return blocks.map((b) => createPublicKey(b)).filter((k) => k.asymmetricKeyType === 'ed25519')
}

/** Is the signature made by one of `keys`? The reason says which check failed. */
export function checkSignature(l: License, keys: KeyObject[]): { ok: true } | { ok: false; reason: string } {
  const key = keys.find((k) => keyIdOf(k) === l.keyId)
  if (!key)
    return {
      ok: false,
      reason: `signed by key ${l.keyId}, which this node does not trust (not the vendor key nor one in license-keys.pem)`,
    }
  const { signature, ...fields } = l
  return verify(null, canonical(fields), key, Buffer.from(signature, 'base64'))
    ? { ok: true }
    : { ok: false, reason: 'signature does not match the license fields (altered or corrupted)' }
}

export type LicenseFields = Omit<License, 'product' | 'keyId' | 'signature'>

/** Signs a license with an Ed25519 private key (PEM); returns the license text. */
export function issueLicense(fields: LicenseFields, privateKeyPem: string): string {
  const priv = createPrivateKey(privateKeyPem)
  if (priv.asymmetricKeyType !== 'ed25519')
    throw new MccsError('MCCS_ERR_LICENSE_KEY', 'must be an Ed25519 private key (PEM)', { field: '--key' })
  // Signed in the form parseLicense gives back (MAC in lower case with colons), or it would not verify.
  const hostId = fields.hostId === 'ANY' ? 'ANY' : fields.hostId.toLowerCase().replace(/-/g, ':')
  const body = { product: 'MCCS' as const, ...fields, hostId, keyId: keyIdOf(createPublicKey(priv)) }
  const signature = sign(null, canonical(body), priv).toString('base64')
  const text =
    [
      '# MCCS license',
      ...ORDER.filter((k) => (body as Record<string, unknown>)[k] !== undefined).map(
        (k) => `${k}=${String((body as Record<string, unknown>)[k])}`,
      ),
      `signature=${signature}`,
    ].join('\n') + '\n'
  parseLicense(text) // what we issue must be what we accept
  return text
}
