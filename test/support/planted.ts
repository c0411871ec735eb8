// Planted secrets for the leak tests (finding 6 of issue 12): one value per way a secret reaches MCCS's
// configuration — argv flags, env maps by name, URL userinfo, attributes marked secret by a type's wizard
// schema, PEM keys, bearer headers, AWS keys — and a search of every file of a support bundle (nested
// tar.gz and gzip'd logs unpacked) for any of them.
import { randomBytes } from 'node:crypto'
import { gunzipSync } from 'node:zlib'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { untar } from '../../core/support/tar.js'

const tag = randomBytes(4).toString('hex')
const word = (w: string) => `${w}${tag}`

/** 40 base64 characters with upper, lower and digits: an AWS secret access key's shape. */
function awsSecret(): string {
  for (;;) {
    const s = randomBytes(30).toString('base64')
    if (/[A-Z]/.test(s) && /[a-z]/.test(s) && /[0-9]/.test(s)) return s
  }
}
const B32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
const awsKeyId = 'AKIA' + Array.from(randomBytes(16), (b) => B32[b % 32]).join('')
const pemBody = randomBytes(96).toString('base64')

export const S = {
  argvPassword: word('ArgvPw'), // --password=<x>
  argvDashP: word('DashP'), // -p <x>
  argvToken: word('ArgvTok'), // --token <x>
  envDbPass: word('EnvDbPass'),
  envMysqlPwd: word('EnvMyPwd'),
  envAwsSecret: awsSecret(),
  envAwsKeyId: awsKeyId,
  envUrlPassword: word('EnvUrlPw'), // DATABASE_URL=postgres://app:<x>@db.example/app
  schemaPhrase: word('SchemaPhrase'), // vault.phrase, x-mccs secret
  nodePhrase: word('NodePhrase'), // vault.phrase per node
  widgetPin: word('WidgetPin'), // vault.pin, widget password
  nestedSeal: word('NestedSeal'), // vault.options.seal, secret through a $ref
  attrUrlPassword: word('AttrUrlPw'), // vault.url https://svc:<x>@vault.example
  bearer: word('BearerTok'), // vault.header Authorization: Bearer <x>
  pemBody, // vault.pem -----BEGIN PRIVATE KEY-----
} as const

export type SecretName = keyof typeof S

/** Text that sits next to the secrets and must survive redaction (the bundle is still useful). */
export const KEPT = ['DB_HOST', 'db.example', 'vault.example', 'eu-central-1', 'APP_MODE'] as const

export const here = path.dirname(fileURLToPath(import.meta.url))
export const fixturePlugins = path.join(here, 'fixtures/plugins')

export const pem = `-----BEGIN PRIVATE KEY-----\n${S.pemBody.replace(/(.{64})/g, '$1\n')}\n-----END PRIVATE KEY-----\n`

/** A process resource's attributes (type `process`) carrying argv and env secrets. */
export const processAttrs = {
  argv: ['/bin/sh', '-c', 'exec sleep 600', 'svc', `--password=${S.argvPassword}`, '-p', S.argvDashP, '--token', S.argvToken],
  env: {
    DB_HOST: 'db.example',
    APP_MODE: 'production',
    DB_PASS: S.envDbPass,
    MYSQL_PWD: S.envMysqlPwd,
    AWS_SECRET_ACCESS_KEY: S.envAwsSecret,
    AWS_ACCESS_KEY_ID: S.envAwsKeyId,
    DATABASE_URL: `postgres://app:${S.envUrlPassword}@db.example:5432/app`,
  },
}

/** A vault resource's attributes: secrets marked by the type's schema, a URL, a header and a key. */
export const vaultAttrs = {
  url: `https://svc:${S.attrUrlPassword}@vault.example/v1`,
  user: 'svc',
  phrase: S.schemaPhrase,
  pin: S.widgetPin,
  options: { seal: S.nestedSeal, region: 'eu-central-1' },
  header: `Authorization: Bearer ${S.bearer}`,
  pem,
}
export const vaultNodeAttrs = { n1: { phrase: S.nodePhrase } }

/** Every file of a bundle, nested archives and gzip'd files unpacked, as [path, bytes]. */
export function unpackAll(gz: Buffer, prefix = ''): Array<[string, Buffer]> {
  const out: Array<[string, Buffer]> = []
  for (const e of untar(gunzipSync(gz))) {
    const name = prefix + e.name
    out.push([name, e.data])
    if (e.name.endsWith('.tar.gz')) out.push(...unpackAll(e.data, `${name}!/`))
    else if (e.name.endsWith('.gz')) out.push([`${name}!gunzip`, gunzipSync(e.data)])
  }
  return out
}

/** The forms a secret can take in a text file: as is, and JSON-escaped (a PEM's newlines). */
export function forms(v: string): string[] {
  const f = [v, JSON.stringify(v).slice(1, -1)]
  // A PEM body is found by any one of its lines.
  if (v === S.pemBody) f.push(...v.match(/.{1,64}/g)!.filter((l) => l.length >= 16))
  return [...new Set(f)]
}

/** Which planted secrets occur in which files. */
export function leaks(files: Array<[string, Buffer]>, secrets: Record<string, string> = S): string[] {
  const found: string[] = []
  for (const [name, data] of files) {
    for (const [k, v] of Object.entries(secrets)) {
      if (forms(v).some((f) => data.includes(f))) found.push(`${k} in ${name}`)
    }
  }
  return found
}
