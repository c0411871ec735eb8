// The bearer token of GET /metrics. Only its SHA-256 is kept (config/metrics-token.json, mode 0600):
// the token is 32 random bytes, so a plain hash cannot be searched back to it, and checking a scrape
// costs one hash — no KDF whose cost an unauthenticated caller could make the agent pay.
// `mccs metrics token create` makes one and prints it once; `revoke` removes it.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { readFile, rm } from 'node:fs/promises'
import path from 'node:path'
import { writeFileAtomic } from '../../config/atomic.js'

export const TOKEN_FILE = 'metrics-token.json'
const PREFIX = 'mccsm_'
const TOKEN_RE = /^mccsm_[A-Za-z0-9_-]{43}$/

interface TokenRecord {
  sha256: string
  created: string
}

export const tokenFile = (configDir: string) => path.join(configDir, TOKEN_FILE)
const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest()

/** A new token; its hash replaces any earlier one (which stops working). Returns the token. */
export async function createMetricsToken(configDir: string, now = new Date()): Promise<string> {
  const token = PREFIX + randomBytes(32).toString('base64url')
  const rec: TokenRecord = { sha256: sha256(token).toString('hex'), created: now.toISOString() }
  await writeFileAtomic(tokenFile(configDir), JSON.stringify(rec, null, 2) + '\n', 0o600)
  return token
}

/** Removes the token: every scrape is refused until a new one is made. Whether there was one. */
export async function revokeMetricsToken(configDir: string): Promise<boolean> {
  const f = tokenFile(configDir)
  const had = await readFile(f).then(
    () => true,
    () => false,
  )
  await rm(f, { force: true })
  return had
}

/** When the token in force was made, or null when there is none. */
export async function metricsTokenInfo(configDir: string): Promise<{ created: string } | null> {
  const rec = await readRecord(configDir)
  return rec ? { created: rec.created } : null
}

async function readRecord(configDir: string): Promise<TokenRecord | null> {
  try {
    const j = JSON.parse(await readFile(tokenFile(configDir), 'utf8')) as Partial<TokenRecord>
    return typeof j.sha256 === 'string' && /^[0-9a-f]{64}$/.test(j.sha256) && typeof j.created === 'string'
      ? { sha256: j.sha256, created: j.created }
      : null
  } catch {
    return null
  }
}

export type TokenCheck = 'ok' | 'missing' | 'malformed' | 'wrong' | 'none-configured'

/** Checks an Authorization header against the stored hash (read each time: a revoke or a new token
 *  applies to the next scrape without a restart). */
export async function checkMetricsToken(configDir: string, authorization: string | undefined): Promise<TokenCheck> {
  if (authorization === undefined || authorization === '') return 'missing'
  const m = /^Bearer ([^\s]+)$/.exec(authorization)
  if (!m || !TOKEN_RE.test(m[1]!)) return 'malformed'
  const rec = await readRecord(configDir)
  if (!rec) return 'none-configured'
  return timingSafeEqual(sha256(m[1]!), Buffer.from(rec.sha256, 'hex')) ? 'ok' : 'wrong'
}
