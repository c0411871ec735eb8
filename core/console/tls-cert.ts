// The console's certificate: the operator's (MCCS_CONSOLE_CERT/KEY), or one made at first start in
// <home>/config/console/ under a one-use, name-constrained CA whose key is not kept (console-ca.ts;
// browsers warn until the operator installs his own certificate or trusts that CA).
import { readFile } from 'node:fs/promises'
import { X509Certificate, createPrivateKey } from 'node:crypto'
import { defaultHosts } from '../cluster/tls.js'
import { ensureConsoleCert } from './console-ca.js'
import { MccsError } from '../errors.js'
import type { ConsoleSettings } from './settings.js'

export interface ConsoleTls {
  cert: string
  key: string
  ca: string | null
  fingerprint: string
  selfSigned: boolean
  /** The CA's fingerprint, and whether a new CA was made at this start (operators must trust it anew). */
  caFingerprint?: string
  newCa?: boolean
}

export async function consoleTls(s: ConsoleSettings): Promise<ConsoleTls> {
  if (s.certFile && s.keyFile) {
    let cert: string, key: string
    try {
      ;[cert, key] = await Promise.all([readFile(s.certFile, 'utf8'), readFile(s.keyFile, 'utf8')])
      createPrivateKey(key)
      const x = new X509Certificate(cert)
      return { cert, key, ca: null, fingerprint: x.fingerprint256, selfSigned: false }
    } catch (e) {
      throw new MccsError('MCCS_ERR_TLS_MATERIAL', `cannot use the console certificate: ${(e as Error).message}`, {
        subject: `${s.certFile}, ${s.keyFile}`,
        cause: e,
      })
    }
  }
  // The certificate names this host and every address the console listens on.
  const hosts = [...new Set([...defaultHosts(), ...s.listen.filter((a) => a !== '0.0.0.0' && a !== '::')])]
  const m = await ensureConsoleCert(s.tlsDir, hosts)
  return {
    cert: m.cert + m.caCert,
    key: m.key,
    ca: m.caCert,
    fingerprint: m.certFingerprint,
    selfSigned: true,
    caFingerprint: m.caFingerprint,
    newCa: m.created,
  }
}
