// The log web console (manual 5.3.5): this node's log, live. Clear empties the view only (the log
// files stay); View full opens the whole log in a new window (/main#log).
import { h, replace } from './dom.js'
import { api } from './api.js'
import { onLog } from './events.js'
import { button } from './dialogs.js'

/** pino JSON lines → "12:03:04 INFO message key=value"; other lines as they are. */
export function formatLine(line: string): { text: string; level: string } {
  try {
    const j = JSON.parse(line) as Record<string, unknown>
    const lv = typeof j.level === 'number' ? ({ 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' } as Record<number, string>)[j.level] ?? String(j.level) : String(j.level ?? 'info')
    const t = typeof j.time === 'number' || typeof j.time === 'string' ? new Date(j.time).toLocaleTimeString() : ''
    const rest = Object.entries(j).filter(([k]) => !['level', 'time', 'msg', 'pid', 'hostname', 'v'].includes(k)).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    return { text: `${t} ${lv.toUpperCase().padEnd(5)} ${String(j.msg ?? '')}${rest.length ? `  ${rest.join(' ')}` : ''}`, level: lv }
  } catch {
    return { text: line, level: /error|fail/i.test(line) ? 'error' : 'info' }
  }
}

const keep = () => Math.max(50, Math.min(10000, Number(localStorage.getItem('mccs.logLines') ?? '500') || 500))

export function logConsole(): HTMLElement {
  const out = h('div', { class: 'log-lines', id: 'log-lines', role: 'log', 'aria-live': 'off', tabindex: 0, 'aria-label': 'Log lines' })
  let paused = false
  const add = (line: string) => {
    const f = formatLine(line)
    const atBottom = out.scrollTop + out.clientHeight >= out.scrollHeight - 4
    out.append(h('div', { class: `log-line lv-${f.level}` }, f.text))
    while (out.childElementCount > keep()) out.firstElementChild?.remove()
    if (atBottom && !paused) out.scrollTop = out.scrollHeight
  }
  api.logs(200).then((r) => { for (const l of r.lines) add(l) }, (e) => add(`(cannot read the log: ${(e as Error).message})`))
  onLog(add)
  const pause = button('Pause', () => { paused = !paused; pause.textContent = paused ? 'Follow' : 'Pause' }, { id: 'log-pause' })
  return h('section', { class: 'logconsole', 'aria-label': 'Log web console' },
    h('div', { class: 'log-head' }, h('h2', null, 'Log web console'),
      h('div', { class: 'log-tools' }, pause,
        button('⌫ Clear', () => replace(out), { id: 'log-clear' }),
        button('⤢ View full log', () => { window.open('/main#log', '_blank', 'noopener') }, { id: 'log-full' }))),
    out)
}

/** The full-log window: every line the agent gives, plain text. */
export async function fullLogPage(root: HTMLElement): Promise<void> {
  document.title = 'MCCS — full log'
  const pre = h('pre', { class: 'full-log', id: 'full-log' }, 'loading…')
  replace(root, h('div', { class: 'full-log-page' }, h('h1', null, 'MCCS log (this node)'), pre))
  try {
    const r = await api.logs(100000)
    pre.textContent = r.lines.map((l) => formatLine(l).text).join('\n') || '(empty)'
  } catch (e) { pre.textContent = `cannot read the log: ${(e as Error).message}` }
}
