// The console's own certificate when the operator gives none: a one-use CA signs the server certificate
// and its private key is thrown away at once. An operator who trusts ca.crt in a browser trusts exactly
// the names in it: the CA carries critical name constraints (the host names and addresses the server
// certificate covers), and no key exists on the node that could sign anything else.
//
//   <dir>/ca.crt      the CA certificate (0644): what an operator trusts
//   <dir>/server.key  server private key (0600)
//   <dir>/server.crt  server certificate (0644), subjectAltName = the hosts
//
// Without the CA key nothing can be re-signed: when the certificate nears its end (825 days) or must
// cover a new name or address, a new CA is made with it (its fingerprint is logged; an operator who trusted
// the old one trusts the new one). Material an earlier version left (a CA without constraints, ca.key next
// to it) is replaced the same way and ca.key removed. openssl runs with argv arrays in a 0700 temp folder
// inside <dir> that is removed after, CA key included.
import { execFile } from 'node:child_process'
import { X509Certificate, createPrivateKey, randomBytes } from 'node:crypto'
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { isIP } from 'node:net'
import path from 'node:path'
import { writeFileAtomic } from '../config/atomic.js'
import { MccsError } from '../errors.js'

export interface ConsoleCert {
  caCert: string
  cert: string
  key: string
  certFingerprint: string
  caFingerprint: string
  /** Made now (a new CA), not reused. */
  created: boolean
}

const SAFE_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
const HOST_RE = /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*$/
const RENEW_BEFORE_MS = 30 * 86_400_000
const CERT_DAYS = 825

function openssl(args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      'openssl',
      args,
      { cwd, env: { PATH: SAFE_PATH, LANG: 'C', OPENSSL_CONF: '/dev/null' }, timeout: 60_000, shell: false },
      (err, _out, stderr) => {
        if (!err) return resolve()
        const e = err as NodeJS.ErrnoException
        reject(
          new MccsError(
            'MCCS_ERR_TLS_OPENSSL',
            e.code === 'ENOENT'
              ? "'openssl' not found: install Debian's openssl package"
              : `openssl ${args[0]} failed: ${String(stderr).trim().split('\n').slice(-3).join(' | ') || e.message}`,
            { field: 'openssl', cause: err },
          ),
        )
      },
    )
  })
}

const readIf = (f: string) =>
  readFile(f, 'utf8').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined
    throw e
  })

/** The name constraint for one host: an exact DNS name, or one address (a full-length mask). */
function permitted(h: string): string {
  if (isIP(h) === 4) return `permitted;IP:${h}/255.255.255.255`
  if (isIP(h) === 6) return `permitted;IP:${h}/ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff`
  return `permitted;DNS:${h}`
}

function usable(caPem: string, certPem: string, keyPem: string, hosts: string[]): boolean {
  try {
    const ca = new X509Certificate(caPem)
    const c = new X509Certificate(certPem)
    return (
      c.checkPrivateKey(createPrivateKey(keyPem)) &&
      c.verify(ca.publicKey) &&
      Date.parse(c.validTo) - Date.now() > RENEW_BEFORE_MS &&
      hosts.every((h) => (isIP(h) ? c.checkIP(h) !== undefined : c.checkHost(h, { wildcards: false }) !== undefined))
    )
  } catch {
    return false
  }
}

/** Reuses the certificate in `dir` while it is usable and no CA key lies beside it; else makes a new one-use CA and certificate. */
export async function ensureConsoleCert(dir: string, hostsIn: string[]): Promise<ConsoleCert> {
  const hosts = [...new Set(hostsIn)]
  if (hosts.length === 0 || hosts.length > 64) throw new MccsError('MCCS_ERR_INVALID', 'give 1..64 hosts', { field: 'hosts' })
  for (const h of hosts)
    if (!(isIP(h) || HOST_RE.test(h)))
      throw new MccsError('MCCS_ERR_INVALID', `'${h}' is neither an IP address nor a DNS name`, { field: 'hosts' })
  const f = {
    ca: path.join(dir, 'ca.crt'),
    caKey: path.join(dir, 'ca.key'),
    crt: path.join(dir, 'server.crt'),
    key: path.join(dir, 'server.key'),
  }
  await mkdir(dir, { recursive: true, mode: 0o700 })
  const [caCert, cert, key, caKey] = await Promise.all([readIf(f.ca), readIf(f.crt), readIf(f.key), readIf(f.caKey)])
  if (caKey === undefined && caCert && cert && key && usable(caCert, cert, key, hosts)) return view(caCert, cert, key, false)

  const work = await mkdtemp(path.join(dir, '.openssl-'))
  let made: { caCert: string; cert: string; key: string }
  try {
    await chmod(work, 0o700)
    const w = (n: string) => path.join(work, n)
    const id = randomBytes(4).toString('hex')
    await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', w('ca.key')], work)
    await openssl(
      [
        'req',
        '-x509',
        '-new',
        '-key',
        w('ca.key'),
        '-sha256',
        '-days',
        String(CERT_DAYS),
        '-subj',
        `/O=MCCS/CN=MCCS console CA ${id} (one-use, key destroyed)`,
        '-addext',
        'basicConstraints=critical,CA:TRUE,pathlen:0',
        '-addext',
        'keyUsage=critical,keyCertSign,cRLSign',
        '-addext',
        'subjectKeyIdentifier=hash',
        '-addext',
        `nameConstraints=critical,${hosts.map(permitted).join(',')}`,
        '-out',
        w('ca.crt'),
      ],
      work,
    )
    await writeFile(
      w('ext.cnf'),
      [
        'basicConstraints=critical,CA:FALSE',
        'keyUsage=critical,digitalSignature',
        'extendedKeyUsage=serverAuth',
        `subjectAltName=${hosts.map((h) => (isIP(h) ? `IP:${h}` : `DNS:${h}`)).join(',')}`,
        'authorityKeyIdentifier=keyid',
        'subjectKeyIdentifier=hash',
        '',
      ].join('\n'),
    )
    await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', w('server.key')], work)
    await openssl(['req', '-new', '-key', w('server.key'), '-subj', `/O=MCCS/CN=${hosts[0]}`, '-out', w('server.csr')], work)
    await openssl(
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
        String(CERT_DAYS),
        '-sha256',
        '-extfile',
        w('ext.cnf'),
        '-out',
        w('server.crt'),
      ],
      work,
    )
    made = {
      caCert: await readFile(w('ca.crt'), 'utf8'),
      cert: await readFile(w('server.crt'), 'utf8'),
      key: await readFile(w('server.key'), 'utf8'),
    }
  } finally {
    await rm(work, { recursive: true, force: true }) // the CA key with it
  }
  // Key, then certificate, then the CA: a crash in between leaves a set that does not verify, made anew next start.
  await writeFileAtomic(f.key, made.key, 0o600)
  await writeFileAtomic(f.crt, made.cert, 0o644)
  await writeFileAtomic(f.ca, made.caCert, 0o644)
  await rm(f.caKey, { force: true })
  return view(made.caCert, made.cert, made.key, true)
}

function view(caCert: string, cert: string, key: string, created: boolean): ConsoleCert {
  return {
    caCert,
    cert,
    key,
    created,
    certFingerprint: new X509Certificate(cert).fingerprint256,
    caFingerprint: new X509Certificate(caCert).fingerprint256,
  }
}
