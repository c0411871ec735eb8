// The log web console (manual 5.3.5): this node's log, live. Clear empties the view only (the log
// files stay); View full opens the whole log in a new window (/main#log).
import { h, replace } from './dom.js'
import { api } from './api.js'
import { onLog } from './events.js'
import { button, notify } from './dialogs.js'
import { fmtClock, tr, whenLanguageChanges } from './i18n.js'

/** pino JSON lines → "12:03:04 INFO message key=value"; other lines as they are. */
export function formatLine(line: string): { text: string; level: string } {
  try {
    const j = JSON.parse(line) as Record<string, unknown>
    const lv =
      typeof j.level === 'number'
        ? (({ 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' } as Record<number, string>)[j.level] ??
          String(j.level))
        : String(j.level ?? 'info')
    const t = typeof j.time === 'number' || typeof j.time === 'string' ? fmtClock(j.time) : ''
    const rest = Object.entries(j)
      .filter(([k]) => !['level', 'time', 'msg', 'pid', 'hostname', 'v'].includes(k))
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    return { text: `${t} ${lv.toUpperCase().padEnd(5)} ${String(j.msg ?? '')}${rest.length ? `  ${rest.join(' ')}` : ''}`, level: lv }
  } catch {
    return { text: line, level: /error|fail/i.test(line) ? 'error' : 'info' }
  }
}

const keep = () => Math.max(50, Math.min(10000, Number(localStorage.getItem('mccs.logLines') ?? '500') || 500))

export function logConsole(): HTMLElement {
  const out = h('div', {
    class: 'log-lines',
    id: 'log-lines',
    role: 'log',
    'aria-live': 'off',
    tabindex: 0,
    'aria-label': tr('ui.full.linesAria'),
  })
  let paused = false
  // Lines are added once per frame: a burst (thousands of lines at once) costs one layout, not one each,
  // and only the last `keep()` of it are ever built.
  let queue: string[] = []
  const flush = () => {
    const lines = queue.slice(-keep())
    queue = []
    const atBottom = out.scrollTop + out.clientHeight >= out.scrollHeight - 4
    out.append(
      ...lines.map((l) => {
        const f = formatLine(l)
        return h('div', { class: `log-line lv-${f.level}` }, f.text)
      }),
    )
    for (let extra = out.childElementCount - keep(); extra > 0; extra--) out.firstElementChild?.remove()
    if (atBottom && !paused) out.scrollTop = out.scrollHeight
  }
  const add = (line: string) => {
    if (!queue.length) requestAnimationFrame(flush)
    queue.push(line)
    if (queue.length > 20_000) queue = queue.slice(-keep())
  }
  api.logs(200).then(
    (r) => {
      for (const l of r.lines) add(l)
    },
    (e) => add(tr('ui.log.cannotRead', { message: (e as Error).message })),
  )
  onLog(add)
  const pause = button(
    tr('ui.log.pause'),
    () => {
      paused = !paused
      pause.textContent = tr(paused ? 'ui.log.follow' : 'ui.log.pause')
    },
    { id: 'log-pause' },
  )
  // The agent log's level on this node, changed at run time and kept across restarts (PUT /api/log-level; in the operation log).
  const level = h('select', {
    id: 'log-level',
    'aria-label': tr('ui.log.levelAria'),
    title: tr('ui.log.levelTitle'),
    disabled: true,
  })
  api.logLevel().then(
    (l) => {
      replace(
        level,
        l.levels.map((x) => h('option', { value: x, selected: x === l.level }, x)),
      )
      level.disabled = false
    },
    () => {
      level.title = tr('ui.log.levelCannot')
    },
  )
  level.addEventListener('change', () => {
    const want = level.value
    level.disabled = true
    api
      .setLogLevel(want)
      .then(
        (l) => {
          notify(tr('ui.log.levelChanged', { node: l.node, level: l.level }), 'ok')
        },
        (e) => {
          notify(tr('ui.log.levelNotChanged', { message: (e as Error).message }), 'error')
          void api.logLevel().then((l) => {
            level.value = l.level
          })
        },
      )
      .finally(() => {
        level.disabled = false
      })
  })
  const title = h('h2', null, tr('ui.log.title'))
  const levelLabel = h('label', { class: 'log-level-label', for: 'log-level' }, tr('ui.log.level'))
  const clear = button(tr('ui.log.clear'), () => replace(out), { id: 'log-clear' })
  const section = h(
    'section',
    { class: 'logconsole', 'aria-label': tr('ui.log.title') },
    h(
      'div',
      { class: 'log-head' },
      title,
      h(
        'div',
        { class: 'log-tools' },
        levelLabel,
        level,
        pause,
        clear,
        button(
          tr('ui.log.full'),
          () => {
            window.open('/main#log', '_blank', 'noopener')
          },
          { id: 'log-full' },
        ),
      ),
    ),
    out,
  )
  // The pane outlives a language switch (it keeps its lines): its words follow the language.
  const full = section.querySelector<HTMLElement>('#log-full')
  whenLanguageChanges(() => {
    title.textContent = tr('ui.log.title')
    section.setAttribute('aria-label', tr('ui.log.title'))
    levelLabel.textContent = tr('ui.log.level')
    level.setAttribute('aria-label', tr('ui.log.levelAria'))
    level.title = tr('ui.log.levelTitle')
    pause.textContent = tr(paused ? 'ui.log.follow' : 'ui.log.pause')
    clear.textContent = tr('ui.log.clear')
    if (full) full.textContent = tr('ui.log.full')
  })
  return section
}

/** The full-log window: this node's whole log, a page at a time (the API gives at most 10,000 lines per
 *  call): the newest PAGE lines first, then Older prepends the page before, back to the log's first line. */
const PAGE = 2000
export async function fullLogPage(root: HTMLElement): Promise<void> {
  document.title = 'MCCS — full log'
  const out = h('div', { class: 'full-log', id: 'full-log', role: 'log', tabindex: 0, 'aria-label': tr('ui.full.wholeAria') })
  const range = h('span', { id: 'log-range', class: 'muted', role: 'status' }, tr('ui.full.loading'))
  const err = h('p', { class: 'field-error', role: 'alert' })
  let from = 0
  let shown = 0
  let size = 0
  const older = button(tr('ui.full.older', { n: PAGE.toLocaleString() }), () => void load(from), { id: 'log-older', disabled: true })
  const newest = button(
    tr('ui.full.newest'),
    () => {
      replace(out)
      shown = 0
      void load(undefined)
    },
    { id: 'log-newest' },
  )
  const render = (lines: string[]) =>
    lines.map((l) => {
      const f = formatLine(l)
      return h('div', { class: `log-line lv-${f.level}` }, f.text)
    })
  async function load(before: number | undefined): Promise<void> {
    older.disabled = true
    err.textContent = ''
    try {
      const p = await api.logs(PAGE, before)
      const keepAt = out.scrollHeight - out.scrollTop // older lines go on top: keep the reader's place
      out.prepend(...render(p.lines))
      if (before !== undefined) out.scrollTop = out.scrollHeight - keepAt
      else out.scrollTop = out.scrollHeight
      from = p.from
      if (before === undefined) size = p.size
      shown += p.lines.length
      older.disabled = from <= 0
      range.textContent = shown
        ? from > 0
          ? tr('ui.full.shownOlder', { shown: shown.toLocaleString(), older: fmtBytes(from), size: fmtBytes(size) })
          : tr('ui.full.shownAll', { shown: shown.toLocaleString(), size: fmtBytes(size) })
        : tr('ui.full.empty')
    } catch (e) {
      err.textContent = tr('ui.full.cannotRead', { message: (e as Error).message })
      older.disabled = from <= 0 && shown > 0
    }
  }
  replace(
    root,
    h(
      'div',
      { class: 'full-log-page', id: 'full-log-page' },
      h('div', { class: 'full-log-head' }, h('h1', null, tr('ui.full.title')), older, newest, range),
      err,
      out,
    ),
  )
  await load(undefined)
}

const fmtBytes = (n: number) =>
  n >= 1 << 20 ? `${(n / (1 << 20)).toFixed(1)} MiB` : n >= 1024 ? `${(n / 1024).toFixed(0)} KiB` : `${n} bytes`
