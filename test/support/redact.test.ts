// The one redaction (core/log/redact.ts) rule by rule: what it hides, and what it must leave alone
// (a bundle that hides everything helps nobody).
import t from 'tap'
import { isSecretKey, redactText, redactJson, redactConfig, rememberSecrets, SecretSet, REDACTED } from '../../core/log/redact.js'

const X = REDACTED

t.test('key names: secret words and parts, case-insensitive, in any naming style', async (t) => {
  for (const k of [
    'password',
    'DB_PASS',
    'MYSQL_PWD',
    'PGPASSWORD',
    'passwd',
    'passphrase',
    'AWS_SECRET_ACCESS_KEY',
    'AWS_ACCESS_KEY_ID',
    'clientSecret',
    'api_token',
    'sessionToken',
    'apiKey',
    'x-api-key',
    'clusterKey',
    'key',
    'ssh_key',
    'privateKey',
    'credentials',
    'REDIS_AUTH',
    'Authorization',
    'cookie',
    'pin',
  ]) {
    t.ok(isSecretKey(k), k)
  }
  for (const k of [
    'monkey',
    'keyboard',
    'passive',
    'bypass',
    'compass',
    'pid',
    'name',
    'hostname',
    'DB_HOST',
    'APP_MODE',
    'generation',
    'pinned',
  ])
    t.notOk(isSecretKey(k), k)
})

t.test('values: each pattern, and the text around it kept', async (t) => {
  const cases: Array<[string, string]> = [
    ['postgres://app:p@ss@db.example:5432/app', `postgres://app:${X}@db.example:5432/app`],
    ['redis://:hunter22@cache:6379', `redis://:${X}@cache:6379`],
    ['mysqld --password=s3cret --user=db', `mysqld --password=${X} --user=db`],
    ['tool --token abc123def --verbose', `tool --token ${X} --verbose`],
    ['mysql -u root -p s3cret db', `mysql -u root -p ${X} db`],
    ['mysql -ps3cret db', `mysql -p${X} db`],
    ['env -i DB_PASS=abc MYSQL_PWD=def PATH=/bin', `env -i DB_PASS=${X} MYSQL_PWD=${X} PATH=/bin`],
    ['password: hunter22, user: bob', `password: ${X}, user: bob`],
    ['{"token":"abcdef","user":"bob"}', `{"token":"${X}","user":"bob"}`],
    ['Authorization: Bearer eyJhbGciOi.x.y', `Authorization: Bearer ${X}`],
    ['curl -H "Authorization: Basic dXNlcjpwYXNz" https://x', `curl -H "Authorization: Basic ${X}" https://x`],
    ['got bearer abc.def-ghi from', `got bearer ${X} from`],
    ['id AKIAIOSFODNN7EXAMPLE used', `id ${X} used`],
    ['secret wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY end', `secret ${X} end`],
    [
      'k=-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY----- after',
      `k=-----BEGIN RSA PRIVATE KEY-----${X}-----END RSA PRIVATE KEY----- after`,
    ],
    ['cut -----BEGIN PRIVATE KEY-----\nMIIEow', `cut -----BEGIN PRIVATE KEY-----${X}-----END PRIVATE KEY-----`],
  ]
  for (const [input, want] of cases) t.equal(redactText(input, { known: new SecretSet() }), want, input)
})

t.test('values: ordinary text is left alone', async (t) => {
  for (const s of [
    'MCCS_ERR_CLUSTER_KEY_MISSING: no such file',
    '--password-file /run/secrets/db',
    '/opt/MCCS/state/proc/Resource1/main/output.log',
    'handleResourceStateChange2OnlineAfterFailover',
    'digest 3f786850e387550fdab836ed7e6dc881de23001b3f786850e387550fdab836ed',
    'https://vault.example/v1',
    'ssh://git@github.com/x/y',
    'online web1: done/ok in 12 ms',
    'sessionTimeout=30',
  ]) {
    t.equal(redactText(s, { known: new SecretSet() }), s, s)
  }
})

t.test('structures: keys, argv arrays, errors, booleans kept', async (t) => {
  t.same(
    redactJson(
      {
        env: { DB_PASS: 'a', HOME: '/root' },
        argv: ['/bin/x', '--password', 'pw1', '-p', 'pw2', '--port', '80'],
        passwordSet: true,
        nested: [{ apiKey: { id: 1 } }],
      },
      { known: new SecretSet() },
    ),
    {
      env: { DB_PASS: X, HOME: '/root' },
      argv: ['/bin/x', '--password', X, '-p', X, '--port', '80'],
      passwordSet: true,
      nested: [{ apiKey: X }],
    },
  )
  const e = redactJson(Object.assign(new Error('connect postgres://u:pw123@h'), { code: 'ECONNREFUSED' }), {
    known: new SecretSet(),
  }) as Record<string, unknown>
  t.match(e, { type: 'Error', message: `connect postgres://u:${X}@h`, code: 'ECONNREFUSED' })
})

t.test('schema marks: x-mccs secret, password widget, $ref, nested, additionalProperties, per node, hb.json fencing', async (t) => {
  const schema = {
    type: 'object',
    $defs: { s: { type: 'string', 'x-mccs': { secret: true } } },
    properties: {
      phrase: { type: 'string', 'x-mccs': { secret: true } },
      pin: { type: 'string', 'x-mccs': { widget: 'password' } },
      ref: { $ref: '#/$defs/s' },
      opts: { type: 'object', properties: { inner: { $ref: '#/$defs/s' }, plain: { type: 'string' } } },
      vault: { type: 'object', additionalProperties: { $ref: '#/$defs/s' } },
      list: { type: 'array', items: { $ref: '#/$defs/s' } },
      plain: { type: 'string' },
    },
  }
  const schemaOf = (type: string) => (type === 't' ? schema : undefined)
  const attrs = {
    phrase: 'one-one',
    pin: '2222',
    ref: 'three',
    opts: { inner: 'four', plain: 'kept' },
    vault: { a: 'five' },
    list: ['six'],
    plain: 'kept',
  }
  const main = {
    resources: [
      { name: 'r', type: 't', attrs, nodeAttrs: { n1: { phrase: 'seven-seven' } } },
      { name: 'u', type: 'unknown', attrs: { phrase: 'visible' } },
    ],
  }
  t.same(redactConfig(main, schemaOf, { known: new SecretSet() }), {
    resources: [
      {
        name: 'r',
        type: 't',
        attrs: { phrase: X, pin: X, ref: X, opts: { inner: X, plain: 'kept' }, vault: { a: X }, list: [X], plain: 'kept' },
        nodeAttrs: { n1: { phrase: X } },
      },
      { name: 'u', type: 'unknown', attrs: { phrase: 'visible' } },
    ],
  })
  const hb = { nodes: [{ name: 'n1', fencing: [{ type: 't', attrs: { phrase: 'fence-secret' } }] }] }
  t.same(redactConfig(hb, schemaOf, { known: new SecretSet() }), {
    nodes: [{ name: 'n1', fencing: [{ type: 't', attrs: { phrase: X } }] }],
  })
})

t.test('remembered values are scrubbed from free text; too short ones are not (they would erase words)', async (t) => {
  const known = new SecretSet()
  const schemaOf = () => ({ type: 'object', properties: { phrase: { 'x-mccs': { secret: true } }, code: { 'x-mccs': { secret: true } } } })
  rememberSecrets({ resources: [{ type: 't', attrs: { phrase: 'open sesame 42', code: 'root' } }] }, schemaOf, known)
  t.equal(known.size, 1)
  t.equal(redactText('plugin says: open sesame 42 as root', { known }), `plugin says: ${X} as root`)
})
