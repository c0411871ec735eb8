// The one-time join token `mccs node add` prints: an id (sent in clear as the TLS-PSK identity, so the
// member can tell its token from a stranger's) and a 256-bit secret that never travels: both ends derive
// the join channel's pre-shared key from it (core/cluster/tls.ts), so the handshake itself proves the
// token on each side, and the cluster key handed over inside is encrypted (TLS 1.3, psk_dhe_ke).
import { randomBytes } from 'node:crypto'
import { derivePsk } from '../cluster/tls.js'
import { MccsError } from '../errors.js'

export const JOIN_PORT_OFFSET = 5 // the join listener: heartbeat port + 5 (14326); the peer channel is + 4
const TOKEN_RE = /^mccs1\.([0-9a-f]{16})\.([A-Za-z0-9_-]{43})$/

export interface JoinToken {
  id: string
  secret: Buffer
  text: string
}

export function newJoinToken(): JoinToken {
  const id = randomBytes(8).toString('hex')
  const secret = randomBytes(32)
  return { id, secret, text: `mccs1.${id}.${secret.toString('base64url')}` }
}

export function parseJoinToken(text: string | undefined): JoinToken {
  const m = TOKEN_RE.exec((text ?? '').trim())
  if (!m)
    throw new MccsError('MCCS_ERR_INVALID', 'is not a join token (mccs node add on a member prints one: mccs1.<id>.<secret>)', {
      field: '--token',
    })
  return { id: m[1]!, secret: Buffer.from(m[2]!, 'base64url'), text: m[0] }
}

export const joinIdentity = (t: Pick<JoinToken, 'id'>): string => `mccs-join/${t.id}`
export const joinPsk = (t: Pick<JoinToken, 'id' | 'secret'>): Buffer => derivePsk(t.secret, `join ${t.id}`)
