// SigV4 checks with the SDK's own signer: the request as received is signed again with the key's secret
// (same date, region, signed headers and body) and the two signatures are compared in constant time.
// Both the Authorization header and presigned query strings (X-Amz-Signature) are accepted.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import { SignatureV4 } from '@smithy/signature-v4'
import type { Checksum, SourceData } from '@smithy/types'
import { Ec2Error } from './errors.js'
import type { SimKey } from './types.js'

/** node:crypto behind the Checksum interface the signer wants (a hash, or an HMAC when given a secret). */
export class NodeSha256 implements Checksum {
  private h: ReturnType<typeof createHash> | ReturnType<typeof createHmac>
  constructor(private readonly secret?: SourceData) {
    this.h = this.fresh()
  }
  private fresh() {
    return this.secret === undefined ? createHash('sha256') : createHmac('sha256', toBuf(this.secret))
  }
  update(data: Uint8Array): void {
    this.h.update(data)
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.h.digest())
  }
  reset(): void {
    this.h = this.fresh()
  }
}

function toBuf(d: SourceData): Buffer {
  if (typeof d === 'string') return Buffer.from(d, 'utf8')
  if (ArrayBuffer.isView(d)) return Buffer.from(d.buffer, d.byteOffset, d.byteLength)
  return Buffer.from(d as ArrayBuffer)
}

export interface IncomingSigned {
  method: string
  host: string
  path: string
  query: URLSearchParams
  headers: Record<string, string>
  body: Buffer
}

export interface Verified {
  key: SimKey
  region: string
}

const SKEW_MS = 15 * 60_000
const AUTH =
  /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request,\s*SignedHeaders=([a-z0-9;._-]+),\s*Signature=([0-9a-f]{64})$/

const authFailure = () => new Ec2Error('AuthFailure', 'AWS was not able to validate the provided access credentials', 401)

function parseAmzDate(s: string | undefined): Date | null {
  const m = s ? /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(s) : null
  if (!m) return null
  const d = new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!))
  return Number.isNaN(d.getTime()) ? null : d
}

export async function verifySigV4(req: IncomingSigned, keys: SimKey[], now = Date.now()): Promise<Verified> {
  const presigned = req.query.has('X-Amz-Signature')
  let accessKeyId: string, scopeDate: string, region: string, service: string, signedHeaders: string[], signature: string
  let amzDate: string | undefined
  let expiresS: number | undefined
  if (presigned) {
    const cred = (req.query.get('X-Amz-Credential') ?? '').split('/')
    if (req.query.get('X-Amz-Algorithm') !== 'AWS4-HMAC-SHA256' || cred.length !== 5 || cred[4] !== 'aws4_request') throw authFailure()
    ;[accessKeyId, scopeDate, region, service] = cred as [string, string, string, string]
    signedHeaders = (req.query.get('X-Amz-SignedHeaders') ?? '').split(';')
    signature = req.query.get('X-Amz-Signature') ?? ''
    amzDate = req.query.get('X-Amz-Date') ?? undefined
    expiresS = Number(req.query.get('X-Amz-Expires') ?? '')
    if (!Number.isInteger(expiresS) || expiresS < 1 || expiresS > 604_800) throw authFailure()
  } else {
    const h = req.headers.authorization
    if (!h)
      throw new Ec2Error(
        'MissingAuthenticationToken',
        'The request must contain either a valid (registered) AWS access key ID or X.509 certificate.',
        401,
      )
    const m = AUTH.exec(h)
    if (!m) throw new Ec2Error('IncompleteSignature', 'The request signature does not conform to AWS standards.', 400)
    ;[, accessKeyId, scopeDate, region, service] = m as unknown as [string, string, string, string, string]
    signedHeaders = m[5]!.split(';')
    signature = m[6]!
    amzDate = req.headers['x-amz-date']
  }
  const key = keys.find((k) => k.accessKeyId === accessKeyId)
  if (!key) throw authFailure()
  if (service !== 'ec2') throw authFailure()
  const date = parseAmzDate(amzDate)
  if (!date || !amzDate!.startsWith(scopeDate))
    throw new Ec2Error('IncompleteSignature', 'X-Amz-Date is missing or does not match the credential scope date.', 400)
  if (!signedHeaders.includes('host')) throw new Ec2Error('IncompleteSignature', 'The host header must be signed.', 400)
  if (presigned) {
    if (now > date.getTime() + expiresS! * 1000)
      throw new Ec2Error('RequestExpired', `Request has expired (signed at ${amzDate}, valid ${expiresS} s).`, 400)
  } else if (Math.abs(now - date.getTime()) > SKEW_MS) {
    throw new Ec2Error(
      'RequestExpired',
      `Request has expired. Timestamp ${amzDate} is more than 15 minutes away from the server time.`,
      400,
    )
  }
  const headers: Record<string, string> = {}
  for (const name of signedHeaders) {
    const v = req.headers[name]
    if (v === undefined) throw new Ec2Error('IncompleteSignature', `Signed header ${name} is missing from the request.`, 400)
    headers[name] = v
  }
  const bodyHash = req.headers['x-amz-content-sha256']
  if (bodyHash !== undefined && bodyHash !== 'UNSIGNED-PAYLOAD' && bodyHash !== createHash('sha256').update(req.body).digest('hex')) {
    throw new Ec2Error('SignatureDoesNotMatch', 'The provided x-amz-content-sha256 header does not match the body.', 403)
  }
  const query: Record<string, string | string[]> = {}
  for (const [k, v] of req.query) {
    if (presigned && k === 'X-Amz-Signature') continue
    const prev = query[k]
    query[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v]
  }
  const [hostname, port] = req.host.split(':')
  const signer = new SignatureV4({
    credentials: { accessKeyId, secretAccessKey: key.secretAccessKey },
    region,
    service: 'ec2',
    sha256: NodeSha256,
    applyChecksum: false,
  })
  const base = {
    method: req.method,
    protocol: 'http:',
    hostname: hostname ?? '',
    ...(port ? { port: Number(port) } : {}),
    path: req.path,
    query,
    headers,
    body: req.body.length ? req.body : undefined,
  }
  let expected: string
  if (presigned) {
    for (const k of ['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires', 'X-Amz-SignedHeaders']) delete query[k]
    const out = await signer.presign(base, { signingDate: date, expiresIn: expiresS!, signableHeaders: new Set(signedHeaders) })
    expected = String(out.query?.['X-Amz-Signature'] ?? '')
  } else {
    const out = await signer.sign(base, { signingDate: date, signableHeaders: new Set(signedHeaders) })
    expected = /Signature=([0-9a-f]{64})$/.exec(out.headers.authorization ?? '')?.[1] ?? ''
  }
  const a = Buffer.from(expected, 'utf8')
  const b = Buffer.from(signature, 'utf8')
  if (a.length !== b.length || !timingSafeEqual(a, b)) {
    throw new Ec2Error(
      'SignatureDoesNotMatch',
      'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.',
      403,
    )
  }
  return { key, region }
}
