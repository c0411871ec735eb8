// Paging a log file back from its end (GET /api/logs?before=, the full-log window): whole lines only,
// `from` of one page is `before` of the next, down to 0, with every line exactly once.
import t from 'tap'
import { mkdtemp, rm, writeFile, appendFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { linesBefore } from '../../core/console/log-files.js'

t.test('pages back to the first line, each line once, whole', async (t) => {
  const d = await mkdtemp(path.join(os.tmpdir(), 'mccs-logpage-'))
  t.teardown(() => rm(d, { recursive: true, force: true }))
  const f = path.join(d, 'mccs.log')
  // Lines of very different lengths (some longer than the 64 KiB read chunk), UTF-8 included.
  const lines = Array.from({ length: 3000 }, (_, i) => `line ${i} ${'é'.repeat(i % 7)}${i % 997 === 0 ? 'x'.repeat(70_000) : ''}`)
  await writeFile(f, lines.join('\n') + '\n')
  const seen: string[] = []
  let before: number | undefined
  let pages = 0
  for (;;) {
    const p = await linesBefore(f, 700, before)
    t.ok(p.lines.length <= 700, 'at most the lines asked for')
    seen.unshift(...p.lines)
    pages++
    if (p.from === 0) break
    t.ok(before === undefined || p.from < before, 'each page starts before the previous one')
    before = p.from
  }
  t.equal(pages, 5, '3000 lines in pages of 700')
  t.same(seen, lines, 'every line once, in order, whole')
})

t.test('a line still being written is left out of the newest page; an empty or missing file gives nothing', async (t) => {
  const d = await mkdtemp(path.join(os.tmpdir(), 'mccs-logpage-'))
  t.teardown(() => rm(d, { recursive: true, force: true }))
  const f = path.join(d, 'mccs.log')
  t.same(await linesBefore(f, 10), { lines: [], from: 0, to: 0, size: 0 })
  await writeFile(f, 'a\nb\n')
  await appendFile(f, 'partial')
  const p = await linesBefore(f, 10)
  t.same(p.lines, ['a', 'b'])
  t.equal(p.to, 4, 'ends after the last whole line')
  t.same((await linesBefore(f, 1)).lines, ['b'])
})
