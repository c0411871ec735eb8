// Help → Help serves the console guide (issue 18, What 6): GET /api/help/console-guide behind the session,
// and the Markdown parser the page builds it with (text only: nothing in the file becomes HTML).
import t from 'tap'
import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { Client, harness, readyClient } from './api-helpers.js'
import { inline, parseMarkdown } from '../../core/console/ui/markdown.js'
import { packageRoot } from '../../core/paths.js'

t.test('GET /api/help/console-guide: the guide, for a session only', async (t) => {
  const h = await harness()
  t.teardown(() => h.cleanup())
  const anon = await new Client(h).req('GET', '/api/help/console-guide')
  t.equal(anon.status, 401, 'not without a session')
  const c = await readyClient(h)
  const r = await c.req('GET', '/api/help/console-guide')
  t.equal(r.status, 200)
  t.equal(r.body.name, 'console-guide.md')
  t.equal(r.body.markdown, await readFile(path.join(packageRoot(), 'docs/console-guide.md'), 'utf8'), 'the file as it is')
  const doc = (await c.req('GET', '/api/openapi.json')).body
  t.ok(doc.paths['/api/help/console-guide']?.get, 'in the API document')
})

t.test("the guide in the reader's language: Korean for a Korean reader, English otherwise", async (t) => {
  const h = await harness()
  t.teardown(() => h.cleanup())
  const c = await readyClient(h)
  const ko = await readFile(path.join(packageRoot(), 'docs/console-guide.ko.md'), 'utf8')
  const en = await readFile(path.join(packageRoot(), 'docs/console-guide.md'), 'utf8')
  const k = await c.req('GET', '/api/help/console-guide?lang=ko')
  t.equal(k.status, 200)
  t.same(k.body, { name: 'console-guide.ko.md', lang: 'ko', markdown: ko }, '?lang=ko: the Korean guide')
  t.match(k.body.markdown, /^# MCCS 웹 콘솔\n/)
  const e = await c.req('GET', '/api/help/console-guide?lang=en')
  t.same(e.body, { name: 'console-guide.md', lang: 'en', markdown: en }, '?lang=en: the English guide')
  const byHeader = await c.req('GET', '/api/help/console-guide', undefined, { headers: { 'accept-language': 'ko-KR,ko;q=0.9' } })
  t.equal(byHeader.body.name, 'console-guide.ko.md', "no ?lang: the reader's language (Accept-Language here)")
  const bad = await c.req('GET', '/api/help/console-guide?lang=fr')
  t.equal(bad.status, 400, 'a language MCCS does not offer is refused')
  t.equal(bad.body.error.code, 'MCCS_ERR_INVALID')
  t.match(JSON.stringify(bad.body.error), /lang/, 'naming the field')
})

t.test('parseMarkdown: the blocks of the guide, as data', async (t) => {
  const md = [
    '# Title',
    '',
    'A *paragraph* with `code`, **bold** and',
    'a second line; [a doc](console.md#x) and [site](https://example.com/a).',
    '',
    '    ssh -L 1:2:3 root@h   # code',
    '',
    '![login](screenshots/login.png)',
    '',
    '| area | what |',
    '|---|---|',
    '| tree | **moves** `x` |',
    '',
    '- one',
    '  continued',
    '- two <script>alert(1)</script>',
    '',
    '1. first',
    '2. second',
    '',
    '## Sub heading',
  ].join('\n')
  const b = parseMarkdown(md)
  t.same(
    b.map((x) => x.t),
    ['heading', 'para', 'code', 'table', 'list', 'list', 'heading'],
  )
  t.same(b[0], { t: 'heading', level: 1, id: 'title', text: [{ t: 'text', text: 'Title' }] })
  t.same(b[1], {
    t: 'para',
    text: [
      { t: 'text', text: 'A ' },
      { t: 'em', text: 'paragraph' },
      { t: 'text', text: ' with ' },
      { t: 'code', text: 'code' },
      { t: 'text', text: ', ' },
      { t: 'strong', text: 'bold' },
      { t: 'text', text: ' and a second line; ' },
      { t: 'text', text: 'a doc' },
      { t: 'text', text: ' and ' },
      { t: 'link', text: 'site', href: 'https://example.com/a' },
      { t: 'text', text: '.' },
    ],
  })
  t.same(b[2], { t: 'code', text: 'ssh -L 1:2:3 root@h   # code' })
  t.same(b[3], {
    t: 'table',
    head: [[{ t: 'text', text: 'area' }], [{ t: 'text', text: 'what' }]],
    rows: [
      [
        [{ t: 'text', text: 'tree' }],
        [
          { t: 'strong', text: 'moves' },
          { t: 'text', text: ' ' },
          { t: 'code', text: 'x' },
        ],
      ],
    ],
  })
  t.same(b[4], {
    t: 'list',
    ordered: false,
    items: [[{ t: 'text', text: 'one continued' }], [{ t: 'text', text: 'two <script>alert(1)</script>' }]],
  })
  t.same(b[5], { t: 'list', ordered: true, items: [[{ t: 'text', text: 'first' }], [{ t: 'text', text: 'second' }]] })
  t.equal((b[6] as { id: string }).id, 'sub-heading')
})

t.test('only http(s) links are links', async (t) => {
  t.same(inline('[x](javascript:alert(1))'), [
    { t: 'text', text: 'x' },
    { t: 'text', text: ')' },
  ])
  t.same(inline('[x](data:text/html,hi)'), [{ t: 'text', text: 'x' }])
  t.same(inline('[x](HTTP://h/)'), [{ t: 'link', text: 'x', href: 'HTTP://h/' }])
})

t.test('the whole guide parses: every heading and table of the file is there', async (t) => {
  const text = await readFile(path.join(packageRoot(), 'docs/console-guide.md'), 'utf8')
  const b = parseMarkdown(text)
  const headings = text.split('\n').filter((l) => /^#{1,6} /.test(l)).length
  t.equal(b.filter((x) => x.t === 'heading').length, headings)
  t.ok(
    b.some((x) => x.t === 'table' && x.rows.length >= 5),
    'the screen table',
  )
})
