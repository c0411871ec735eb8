// License states keep their words (core/engine/said.ts): each limited-mode reason and warning the license
// code words itself reads, in English, exactly as the stored reason (logs, JSON, older readers), and in
// Korean with its parameters filled — what `mccs status`, `mccs license show` and the console's banner render.
import t from 'tap'
import { generateKeyPairSync } from 'node:crypto'
import { licenseState, DAY_MS } from '../../core/license/state.js'
import { issueLicense, parseLicense, type License, type LicenseFields } from '../../core/license/format.js'
import { say } from '../../core/i18n/messages.js'

const { privateKey, publicKey } = generateKeyPairSync('ed25519')
const MAC = '02:00:00:00:00:01'
const now = Date.parse('2026-12-07T12:00:00Z')
const PRIV = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString()
const base = { node: 'n1', hostId: 'ANY', issued: '2026-01-01T00:00:00Z' }

function sign(fields: Partial<LicenseFields>): License {
  return parseLicense(issueLicense({ ...base, ...fields } as LicenseFields, PRIV))
}

t.test('limited-mode reasons and warnings read as stored in English, and in Korean', async (t) => {
  const cases = [
    licenseState(now, null, [], [publicKey], 'n1'),
    licenseState(now, sign({ type: 'term', expires: '2026-12-01T00:00:00Z' }), [], [publicKey], 'n1'),
    licenseState(now, sign({ type: 'term', expires: '2027-12-01T00:00:00Z' }), [], [publicKey], 'n2'),
    licenseState(now, sign({ type: 'term', expires: '2026-12-10T00:00:00Z' }), [], [publicKey], 'n1'),
    licenseState(now, sign({ type: 'term', expires: '2026-12-08T06:00:00Z' }), [], [publicKey], 'n1'),
    licenseState(now, sign({ type: 'nodelock', hostId: MAC }), [MAC], [publicKey], 'n1', { verification: { at: now - 9 * DAY_MS } }),
    licenseState(now, sign({ type: 'nodelock', hostId: MAC }), [MAC], [publicKey], 'n1', { verification: { at: now - 5 * DAY_MS } }),
  ]
  const said = cases.flatMap((c) => [
    ...(c.reason ? [{ text: c.reason, said: c.said }] : []),
    ...(c.warning ? [{ text: c.warning, said: c.warningSaid }] : []),
  ])
  t.equal(said.length, cases.length, 'each case has a reason or a warning')
  for (const s of said) {
    t.ok(s.said, `words for: ${s.text}`)
    t.equal(say('en', s.said, '\u0000'), s.text, 'English as stored')
    const ko = say('ko', s.said, '\u0000')
    t.ok(ko !== '\u0000' && !/\{\w+\}/.test(ko) && ko !== s.text, `Korean: ${ko}`)
  }
  t.equal(say('ko', cases[0]!.said, ''), '설치된 라이선스 없음')
  t.equal(say('ko', cases[1]!.said, ''), 'expires: 2026-12-01T00:00:00Z에 만료됨')
})
