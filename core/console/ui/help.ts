// Help → Help: the console guide in the console's language (docs/console-guide.md, console-guide.ko.md;
// GET /api/help/console-guide?lang=) in a wide dialog,
// built from parsed Markdown with text nodes only (markdown.ts): the file's text never becomes HTML.
import { h, replace, type Child } from './dom.js'
import { api } from './api.js'
import { dialog, button } from './dialogs.js'
import { parseMarkdown, type Block, type Inline } from './markdown.js'
import { lang, tr } from './i18n.js'

const inlines = (xs: Inline[]): Child[] =>
  xs.map((x) =>
    x.t === 'text'
      ? x.text
      : x.t === 'code'
        ? h('code', null, x.text)
        : x.t === 'strong'
          ? h('strong', null, x.text)
          : x.t === 'em'
            ? h('em', null, x.text)
            : h('a', { href: x.href, target: '_blank', rel: 'noopener noreferrer' }, x.text),
  )

function block(b: Block): Node {
  switch (b.t) {
    case 'heading': {
      const tag = b.level <= 1 ? 'h2' : b.level === 2 ? 'h3' : 'h4' // the dialog's title is the page's heading
      return h(tag, { id: `guide-${b.id}` }, inlines(b.text))
    }
    case 'para':
      return h('p', null, inlines(b.text))
    case 'list':
      return h(
        b.ordered ? 'ol' : 'ul',
        null,
        b.items.map((it) => h('li', null, inlines(it))),
      )
    case 'code':
      return h('pre', null, h('code', null, b.text))
    case 'table':
      return h(
        'table',
        { class: 'grid' },
        h(
          'thead',
          null,
          h(
            'tr',
            null,
            b.head.map((c) => h('th', { scope: 'col' }, inlines(c))),
          ),
        ),
        h(
          'tbody',
          null,
          b.rows.map((r) =>
            h(
              'tr',
              null,
              r.map((c) => h('td', null, inlines(c))),
            ),
          ),
        ),
      )
  }
}

export function helpDialog(): void {
  const d = dialog(tr('ui.help.title'), { wide: true, id: 'help' })
  const body = h('article', { id: 'help-guide', class: 'guide', 'aria-busy': 'true' }, h('p', { class: 'muted' }, tr('ui.help.loading')))
  d.body.append(body)
  d.footer.append(button(tr('ui.btn.close'), () => d.close(), { primary: true }))
  api.consoleGuide(lang()).then(
    (g) => {
      replace(body, parseMarkdown(g.markdown).map(block))
      body.removeAttribute('aria-busy')
    },
    (e) => {
      replace(body, h('p', { class: 'field-error', role: 'alert' }, tr('ui.help.cannot', { message: (e as Error).message })))
      body.removeAttribute('aria-busy')
    },
  )
}
