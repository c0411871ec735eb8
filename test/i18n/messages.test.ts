// core/i18n: t() with parameters and fallback, the locale choice (CLI flags and env, Accept-Language), the
// one date/time format, and the catalogue's messages per locale.
import t from 'tap'
import { t as tr, fill, paramsOf } from '../../core/i18n/messages.js'
import { pickLocale, fromAcceptLanguage, normalize } from '../../core/i18n/locale.js'
import { formatTime } from '../../core/i18n/time.js'
import { CATALOGUE, messageOf } from '../../core/errors.js'

t.test('t: the text of the locale, parameters filled, English then the key as fallbacks', async (t) => {
  t.equal(tr('en', 'err.MCCS_ERR_GROUP_LOCKED'), 'group is locked')
  t.equal(tr('ko', 'err.MCCS_ERR_GROUP_LOCKED'), '그룹이 잠겨 있습니다')
  t.equal(fill('{a} and {b} and {a}', { a: 1, b: 'x' }), '1 and x and 1')
  t.equal(fill('{a} and {missing}', { a: 1 }), '1 and {missing}', 'an unknown parameter shows instead of vanishing')
  t.same(paramsOf('{b} {a} {b}'), ['a', 'b'])
  // A key no locale has comes back as itself (the consistency test keeps that from shipping).
  t.equal(tr('ko', 'no.such.key' as never), 'no.such.key')
})

t.test('the catalogue: English as before, Korean from ko.json, codes unchanged', async (t) => {
  t.equal(CATALOGUE.MCCS_ERR_INVALID.message, 'invalid input')
  t.equal(CATALOGUE.MCCS_ERR_INVALID.status, 400)
  t.equal(CATALOGUE.MCCS_ERR_NOT_FOUND.exit, 'REJECTED')
  t.equal(messageOf('MCCS_ERR_NO_QUORUM', 'en'), "this node's partition has no quorum")
  t.equal(messageOf('MCCS_ERR_NO_QUORUM', 'ko'), '이 노드가 속한 파티션에 쿼럼이 없습니다')
})

t.test('locale choice', async (t) => {
  t.equal(pickLocale(undefined, 'ko_KR.UTF-8', 'en'), 'ko', 'the first usable candidate wins')
  t.equal(pickLocale('fr', null, 'EN'), 'en', 'unknown languages are skipped')
  t.equal(pickLocale(), 'en', 'nothing chosen: English')
  t.equal(normalize('ko-KR'), 'ko')
  t.equal(normalize('de'), undefined)
  t.equal(fromAcceptLanguage('en-US,en;q=0.9,ko;q=0.8'), 'en')
  t.equal(fromAcceptLanguage('fr-FR, ko;q=0.7, en;q=0.5'), 'ko', 'the best language MCCS speaks')
  t.equal(fromAcceptLanguage('ko;q=0, en;q=0.1'), 'en', 'q=0 means not this one')
  t.equal(fromAcceptLanguage('de, fr'), undefined)
  t.equal(fromAcceptLanguage(undefined), undefined)
})

t.test('one date/time format per locale, 24-hour, local time', async (t) => {
  const at = new Date(2026, 11, 6, 18, 5, 9).getTime()
  t.equal(formatTime('en', at), '2026-12-06 18:05:09')
  t.equal(formatTime('ko', at), '2026. 12. 06. 18:05:09')
  t.equal(formatTime('en', new Date(at).toISOString()), '2026-12-06 18:05:09', 'an ISO string reads the same')
  t.equal(formatTime('ko', 'not a time'), 'not a time')
})
