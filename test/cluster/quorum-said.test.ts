// The cluster layer's quorum reason in words (issue 18, What 8): beside each English reason (kept for the
// log, --json and older readers) computeMembership gives a said.q.* key and parameters whose English text is
// exactly that reason and whose Korean text has every parameter filled — over every branch: no votes,
// majority, a tie broken by the quorum server, denied or without one, a minority.
import t from 'tap'
import { computeMembership, type MembershipInput } from '../../core/cluster/membership.js'
import { say } from '../../core/i18n/messages.js'
import { quorumServerWords } from '../../core/cluster/quorum-client.js'
import { packageRoot } from '../../core/paths.js'
import { readFileSync } from 'node:fs'
import path from 'node:path'

const nodes = (n: number, votes?: number) =>
  Array.from({ length: n }, (_, i) => ({ name: `n${i + 1}`, ...(votes !== undefined ? { votes } : {}) }))

const cases: Array<[string, MembershipInput, RegExp, string]> = [
  ['no votes', { self: 'n1', nodes: nodes(2, 0), up: [], views: {} }, /^no node has a vote$/, 'said.q.noVotes'],
  ['majority', { self: 'n1', nodes: nodes(3), up: ['n2'], views: { n2: { up: ['n1'] } } }, /^majority: 2 of 3 votes$/, 'said.q.majority'],
  ['minority', { self: 'n1', nodes: nodes(3), up: [], views: {} }, /^minority: 1 of 3 votes, 2 needed$/, 'said.q.minority'],
  [
    'tie, no server',
    { self: 'n1', nodes: nodes(2), up: [], views: {} },
    /^tie \(1 of 2 votes\); quorum server not available$/,
    'said.q.tieNoServer',
  ],
  [
    'tie, denied',
    { self: 'n1', nodes: nodes(2), up: [], views: {}, quorumServerVote: 'denied' },
    /^tie \(1 of 2 votes\); quorum server denied its vote$/,
    'said.q.tieDenied',
  ],
  [
    'tie, granted',
    { self: 'n1', nodes: nodes(2), up: [], views: {}, quorumServerVote: 'granted' },
    /^tie \(1 of 2 votes\) broken by the quorum server$/,
    'said.q.tieServer',
  ],
]

for (const [name, input, english, id] of cases) {
  t.test(name, async (t) => {
    const r = computeMembership(input)
    t.match(r.reason, english, 'the English reason as before')
    t.equal(r.said?.id, id)
    t.equal(say('en', r.said, '\u0000'), r.reason, 'its words read in English exactly as the reason')
    const ko = say('ko', r.said, '\u0000')
    t.not(ko, r.reason, 'Korean differs')
    t.notMatch(ko, /\{\w+\}|\u0000/, 'every parameter filled')
    t.match(ko, /[가-힣]/, 'in Korean')
  })
}

t.test('the Korean words of a tie and a minority', async (t) => {
  t.equal(say('ko', computeMembership(cases[3]![1]).said, ''), '동수(투표 2표 중 1표); 쿼럼 서버를 사용할 수 없음')
  t.equal(say('ko', computeMembership(cases[2]![1]).said, ''), '소수: 투표 3표 중 1표, 2표 필요')
})

t.test("the quorum server's answer and the client's own state, in words", async (t) => {
  const texts = [
    'not connected',
    'stopped',
    'logged in',
    'this partition holds the vote',
    'waiting for n2, n3 to give the vote up',
    'the vote is held by partition [n1, n2]',
  ]
  for (const x of texts) {
    const w = quorumServerWords(x)
    t.ok(w, `words for: ${x}`)
    t.equal(say('en', w, '\u0000'), x, 'English exactly as the text')
    const ko = say('ko', w, '\u0000')
    t.ok(ko !== x && !/\{\w+\}|\u0000/.test(ko) && /[가-힣]/.test(ko), `Korean: ${ko}`)
  }
  t.equal(say('ko', quorumServerWords('the vote is held by partition [n1, n2]'), ''), '투표는 파티션 [n1, n2]이(가) 가지고 있음')
  t.equal(quorumServerWords('TLS handshake failed: certificate unknown'), undefined, "an error's message has no words: shown as written")
  // The server writes these very texts (quorum-server.ts): a change there without one here fails.
  const server = readFileSync(path.join(packageRoot(), 'core/cluster/quorum-server.ts'), 'utf8')
  for (const s of [
    "'this partition holds the vote'",
    "`waiting for ${blockers.join(', ')} to give the vote up`",
    "`the vote is held by partition [${winner?.join(', ') ?? ''}]`",
  ])
    t.ok(server.includes(s), `the server still says ${s}`)
})
