// TLS material for MCCS's own servers (the quorum server now, the console later): a self-signed CA and
// a server certificate signed by it, made with the `openssl` command (argv arrays, never a shell).
//
//   <dir>/ca.key      CA private key (0600)       stays on the server
//   <dir>/ca.crt      CA certificate (0644)       copied to every client: clients pin it (`ca` option)
//   <dir>/server.key  server private key (0600)
//   <dir>/server.crt  server certificate (0644), subjectAltName = the hosts given (DNS names and IPs)
//
// Every file is written atomically (temp file, fsync, rename, fsync dir), so a crash leaves the old
// material or the new one. openssl works in a private 0700 temp folder inside `dir` that is removed after.
// Existing material is reused while it is valid: the CA is never replaced (clients pin it); the server
// certificate is re-issued when it is missing, not signed by the CA, about to expire or lacks a host.
//
// Servers whose every client already shares a secret with them (the agent-to-agent channel: every node
// holds the cluster key) need no certificate: TLS 1.3 with an external pre-shared key derived from that
// secret (pskServerOptions / pskClientOptions below). Nothing to make, copy or renew; both ends prove
// the key in the handshake; (EC)DHE on top of the PSK keeps recorded traffic secret if the key leaks later.
import { execFile } from 'node:child_process'
import { X509Certificate, createPrivateKey, hkdfSync, randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, readFile, rm, writeFile, chmod } from 'node:fs/promises'
import { isIP } from 'node:net'
import tls from 'node:tls'
import os from 'node:os'
import path from 'node:path'
import { MccsError } from '../errors.js'
import { writeFileAtomic } from '../config/atomic.js'

export interface TlsMaterial {
  dir: string
  caCertFile: string
  caKeyFile: string
  certFile: string
  keyFile: string
  /** PEM texts, ready for `tls.createServer({ key, cert })` and a client's `ca`. */
  caCert: string
  cert: string
  key: string
  /** SHA-256 fingerprints (colon hex) to show operators. */
  caFingerprint: string
  certFingerprint: string
  /** The hosts the server certificate covers. */
  hosts: string[]
  /** What this call did. */
  created: { ca: boolean; cert: boolean }
}

export interface TlsOptions {
  /** Names and addresses the server certificate must cover (default: localhost, 127.0.0.1, ::1, the host name). */
  hosts?: string[]
  /** Common name of the server certificate (default: the first host). */
  commonName?: string
  /** Label inside the CA's common name (`MCCS <label> CA`). */
  label?: string
  caDays?: number
  certDays?: number
  /** The openssl binary (default: `openssl` found on a safe PATH). */
  openssl?: string
}

const SAFE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
const HOST_RE = /^(?=.{1,253}$)[A-Za-z0-9*]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*\.?$/
const RENEW_BEFORE_MS = 30 * 86_400_000

/** The default hosts of a server certificate on this machine. */
export function defaultHosts(): string[] {
  const hosts = new Set(['localhost', '127.0.0.1', '::1'])
  const hn = os.hostname()
  if (HOST_RE.test(hn)) hosts.add(hn)
  for (const addrs of Object.values(os.networkInterfaces())) {
    for (const a of addrs ?? []) if (!a.internal && !a.address.startsWith('fe80')) hosts.add(a.address)
  }
  return [...hosts]
}

function checkHosts(hosts: string[]): string[] {
  if (hosts.length === 0 || hosts.length > 64) throw new MccsError('MCCS_ERR_INVALID', 'give 1..64 hosts', { field: 'hosts' })
  for (const h of hosts) {
    if (typeof h !== 'string' || !(isIP(h) || HOST_RE.test(h))) {
      throw new MccsError('MCCS_ERR_INVALID', `'${String(h)}' is neither an IP address nor a DNS name`, { field: 'hosts' })
    }
  }
  return [...new Set(hosts)]
}

function run(bin: string, args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      bin,
      args,
      { cwd, env: { PATH: SAFE_PATH, LANG: 'C', OPENSSL_CONF: '/dev/null' }, timeout: 60_000, shell: false },
      (err, _stdout, stderr) => {
        if (!err) return resolve()
        const e = err as NodeJS.ErrnoException
        if (e.code === 'ENOENT') {
          reject(
            new MccsError('MCCS_ERR_TLS_OPENSSL', `'${bin}' not found: install Debian's openssl package`, { field: 'openssl', cause: err }),
          )
        } else {
          reject(
            new MccsError(
              'MCCS_ERR_TLS_OPENSSL',
              `${bin} ${args[0]} failed: ${String(stderr).trim().split('\n').slice(-3).join(' | ') || e.message}`,
              { field: 'openssl', cause: err },
            ),
          )
        }
      },
    )
  })
}

async function readIf(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8')
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw e
  }
}

function parseCert(pem: string, file: string): X509Certificate {
  try {
    return new X509Certificate(pem)
  } catch (err) {
    throw new MccsError('MCCS_ERR_TLS_MATERIAL', 'is not a PEM certificate', { subject: file, cause: err })
  }
}

function coversAll(cert: X509Certificate, hosts: string[]): boolean {
  return hosts.every((h) => (isIP(h) ? cert.checkIP(h) !== undefined : cert.checkHost(h, { wildcards: false }) !== undefined))
}

/** Creates (or reuses) the CA and server certificate in `dir`. */
export async function ensureTlsMaterial(dir: string, opts: TlsOptions = {}): Promise<TlsMaterial> {
  const hosts = checkHosts(opts.hosts ?? defaultHosts())
  const bin = opts.openssl ?? 'openssl'
  const f = {
    caKey: path.join(dir, 'ca.key'),
    caCrt: path.join(dir, 'ca.crt'),
    key: path.join(dir, 'server.key'),
    crt: path.join(dir, 'server.crt'),
  }
  await mkdir(dir, { recursive: true, mode: 0o700 })
  const created = { ca: false, cert: false }
  let caKey = await readIf(f.caKey)
  let caCert = await readIf(f.caCrt)
  if ((caKey === undefined) !== (caCert === undefined)) {
    throw new MccsError(
      'MCCS_ERR_TLS_MATERIAL',
      `has only half of the CA (${caKey ? 'ca.crt' : 'ca.key'} is missing); restore it or remove both to make a new CA (clients must then get the new ca.crt)`,
      { subject: dir },
    )
  }
  let key = await readIf(f.key)
  let cert = await readIf(f.crt)
  let needCert = caKey === undefined || key === undefined || cert === undefined
  if (!needCert) {
    const ca = parseCert(caCert!, f.caCrt)
    const c = parseCert(cert!, f.crt)
    let keyMatches = false
    try {
      keyMatches = c.checkPrivateKey(createPrivateKey(key!))
    } catch {
      /* re-issued below */
    }
    needCert = !keyMatches || !c.verify(ca.publicKey) || Date.parse(c.validTo) - Date.now() < RENEW_BEFORE_MS || !coversAll(c, hosts)
  }
  if (!needCert) {
    return material(dir, f, caCert!, cert!, key!, hosts, created)
  }

  const work = await mkdtemp(path.join(dir, '.openssl-'))
  try {
    await chmod(work, 0o700)
    const w = (n: string) => path.join(work, n)
    if (caKey === undefined) {
      const id = randomBytes(4).toString('hex')
      await run(bin, ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', w('ca.key')], work)
      await run(
        bin,
        [
          'req',
          '-x509',
          '-new',
          '-key',
          w('ca.key'),
          '-sha256',
          '-days',
          String(opts.caDays ?? 3650),
          '-subj',
          `/O=MCCS/CN=MCCS ${opts.label ?? 'server'} CA ${id}`,
          '-addext',
          'basicConstraints=critical,CA:TRUE,pathlen:0',
          '-addext',
          'keyUsage=critical,keyCertSign,cRLSign',
          '-addext',
          'subjectKeyIdentifier=hash',
          '-out',
          w('ca.crt'),
        ],
        work,
      )
      caKey = await readFile(w('ca.key'), 'utf8')
      caCert = await readFile(w('ca.crt'), 'utf8')
      created.ca = true
    } else {
      await writeFile(w('ca.key'), caKey, { mode: 0o600 })
      await writeFile(w('ca.crt'), caCert!)
    }
    const san = hosts.map((h) => (isIP(h) ? `IP:${h}` : `DNS:${h}`)).join(',')
    await writeFile(
      w('ext.cnf'),
      [
        'basicConstraints=critical,CA:FALSE',
        'keyUsage=critical,digitalSignature,keyEncipherment',
        'extendedKeyUsage=serverAuth',
        `subjectAltName=${san}`,
        'authorityKeyIdentifier=keyid',
        'subjectKeyIdentifier=hash',
        '',
      ].join('\n'),
    )
    const cn = opts.commonName ?? hosts[0]!
    if (!(isIP(cn) || HOST_RE.test(cn))) throw new MccsError('MCCS_ERR_INVALID', `'${cn}' is not a host name`, { field: 'commonName' })
    await run(bin, ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', w('server.key')], work)
    await run(bin, ['req', '-new', '-key', w('server.key'), '-subj', `/O=MCCS/CN=${cn}`, '-out', w('server.csr')], work)
    await run(
      bin,
      [
        'x509',
        '-req',
        '-in',
        w('server.csr'),
        '-CA',
        w('ca.crt'),
        '-CAkey',
        w('ca.key'),
        '-set_serial',
        '0x' +
          randomBytes(16)
            .toString('hex')
            .replace(/^[89a-f]/, '1'),
        '-days',
        String(opts.certDays ?? 825),
        '-sha256',
        '-extfile',
        w('ext.cnf'),
        '-out',
        w('server.crt'),
      ],
      work,
    )
    key = await readFile(w('server.key'), 'utf8')
    cert = await readFile(w('server.crt'), 'utf8')
    created.cert = true
  } finally {
    await rm(work, { recursive: true, force: true })
  }
  // Keys first, then certificates; the CA before the server certificate that it signs.
  if (created.ca) {
    await writeFileAtomic(f.caKey, caKey, 0o600)
    await writeFileAtomic(f.caCrt, caCert!, 0o644)
  }
  await writeFileAtomic(f.key, key, 0o600)
  await writeFileAtomic(f.crt, cert, 0o644)
  return material(dir, f, caCert!, cert, key, hosts, created)
}

function material(
  dir: string,
  f: { caKey: string; caCrt: string; key: string; crt: string },
  caCert: string,
  cert: string,
  key: string,
  hosts: string[],
  created: TlsMaterial['created'],
): TlsMaterial {
  return {
    dir,
    caCertFile: f.caCrt,
    caKeyFile: f.caKey,
    certFile: f.crt,
    keyFile: f.key,
    caCert,
    cert,
    key,
    hosts,
    created,
    caFingerprint: parseCert(caCert, f.caCrt).fingerprint256,
    certFingerprint: parseCert(cert, f.crt).fingerprint256,
  }
}

/** Reads a PEM CA certificate a client pins (a file path or the PEM text itself). */
export async function loadCa(caOrFile: string): Promise<string> {
  const pem = caOrFile.includes('-----BEGIN')
    ? caOrFile
    : await readFile(caOrFile, 'utf8').catch((err: unknown) => {
        throw new MccsError('MCCS_ERR_TLS_MATERIAL', `cannot read the CA certificate: ${(err as Error).message}`, {
          subject: caOrFile,
          cause: err,
        })
      })
  parseCert(pem, caOrFile.includes('-----BEGIN') ? 'ca' : caOrFile)
  return pem
}

// ---------------------------------------------------------------------------------- TLS-PSK

/**
 * TLS 1.3 suites for external PSKs. OpenSSL binds a PSK given by callback to SHA-256, so a SHA-384 suite
 * would not match it (the handshake then falls back to certificates, which PSK servers do not have).
 * Both are AEAD; TLS 1.3 itself offers nothing else.
 */
export const PSK_CIPHERS = 'TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256'

/**
 * A PSK for one use of a shared 256-bit secret: HKDF-SHA256 with a fixed salt and `context` as info.
 * The context names the use and its parties, so a PSK of one use or direction proves nothing in another,
 * and the secret itself (which also keys the heartbeat HMAC) never enters TLS.
 */
export function derivePsk(secret: Buffer, context: string): Buffer {
  return Buffer.from(hkdfSync('sha256', secret, 'mccs tls-psk v1', context, 32))
}

/**
 * Server options for TLS 1.3 with PSKs only: `lookup` gets the identity the client names (sent in clear)
 * and returns its PSK, or null to refuse. No certificate: a client without the PSK cannot complete the
 * handshake, and the server cannot be made to fall back to anything else.
 */
export function pskServerOptions(
  lookup: (identity: string, socket: tls.TLSSocket) => Buffer | null,
  handshakeTimeoutMs: number,
): tls.TlsOptions {
  return {
    minVersion: 'TLSv1.3',
    maxVersion: 'TLSv1.3',
    ciphers: PSK_CIPHERS,
    handshakeTimeout: handshakeTimeoutMs,
    pskCallback: (socket, identity) => lookup(identity, socket),
  }
}

let pskClientContext: tls.SecureContext | undefined

/** Client options for TLS 1.3 with one PSK. Check `pskAuthenticated` on secureConnect before trusting the peer. */
export function pskClientOptions(identity: string, psk: Buffer): tls.ConnectionOptions {
  // Made once for every client connection (otherwise Node builds a context for each connect).
  pskClientContext ??= tls.createSecureContext({ minVersion: 'TLSv1.3', maxVersion: 'TLSv1.3', ciphers: PSK_CIPHERS })
  return {
    secureContext: pskClientContext,
    pskCallback: () => ({ identity, psk }),
    // A server may ignore the PSK and answer with a certificate, which Node would check against the
    // public CAs: a stranger with any public certificate would pass. Any certificate is refused.
    checkServerIdentity: () => new Error('the server offered a certificate; this channel authenticates with its pre-shared key only'),
  }
}

/** The handshake used the PSK (TLS 1.3, no certificate): the peer holds the key. */
export function pskAuthenticated(socket: tls.TLSSocket): boolean {
  return socket.getProtocol() === 'TLSv1.3' && Object.keys(socket.getPeerCertificate() ?? {}).length === 0
}
