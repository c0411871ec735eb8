// The heartbeat dialog's timing editor (issue 16, What 3): POST /api/hb/change setTiming, the same live change
// as `mccs hb set-timing` (through the coordinator, two phases on every member). A refusal is shown with its
// field and reason; nothing changed then. The quorum settings below (hbQuorumForm) the same way; nodes and
// links are changed with `mccs hb` / the REST route.
import { h } from './dom.js'
import { call, ApiError } from './api.js'
import { loadConfig } from './store.js'
import { button, notify } from './dialogs.js'
import { tr } from './i18n.js'
import type { HbConfig } from '../../config/hb-model.js'
import type { MessageKey } from '../../i18n/messages.js'

export function hbTimingForm(hb: HbConfig, done: () => void): HTMLElement {
  const num = (id: string, v: number, label: string) =>
    h('input', { id, type: 'number', min: '20', step: '10', value: String(v), 'aria-label': label }) as HTMLInputElement
  const interval = num('hb-interval', hb.timing.intervalMs, tr('ui.hb.intervalAria'))
  const dead = num('hb-dead', hb.timing.deadMs, tr('ui.hb.deadAria'))
  const apply = button(
    tr('ui.hb.apply'),
    () => {
      apply.disabled = true
      call<{ generation: number; summary: string }>('POST', '/api/hb/change', {
        change: { op: 'setTiming', intervalMs: Number(interval.value), deadMs: Number(dead.value) },
        expectGeneration: hb.generation,
      })
        .then((r) => {
          notify(tr('ui.hb.applied', { summary: r.summary, generation: r.generation }), 'ok')
          void loadConfig().catch(() => {})
          done()
        })
        .catch((e: unknown) => {
          const err = e instanceof ApiError ? e : null
          notify(tr('ui.hb.notChanged', { detail: `${err?.field ? `${err.field}: ` : ''}${(e as Error).message}` }), 'error')
        })
        .finally(() => {
          apply.disabled = false
        })
    },
    { primary: true, id: 'hb-apply' },
  )
  return h('p', null, h('label', null, tr('ui.hb.intervalLabel'), interval), ' ', h('label', null, tr('ui.hb.deadLabel'), dead), ' ', apply)
}

type QuorumMode = 'majority' | 'two-node' | 'server'

/** The mode hb.json's quorum section is in: a server breaks ties, else two-node mode, else a majority. */
export function quorumMode(hb: HbConfig): QuorumMode {
  return hb.quorum?.server ? 'server' : hb.quorum?.twoNode ? 'two-node' : 'majority'
}

/** The quorum part of the dialog (issue 16, What 3): the same setQuorum change as `mccs hb set-quorum`. The
 *  CA and key are files each member reads from its own config folder at the prepare phase (a key never
 *  travels through the browser); a new server must answer every member, or nothing changes. */
export function hbQuorumForm(hb: HbConfig, done: () => void): HTMLElement {
  const q = hb.quorum ?? {}
  const mode = h(
    'select',
    { id: 'hb-q-mode' },
    (['majority', 'two-node', 'server'] as const).map((m) => h('option', { value: m }, tr(`ui.hb.q.mode.${m}` as MessageKey))),
  ) as HTMLSelectElement
  mode.value = quorumMode(hb)
  const text = (id: string, v: string | undefined, o: Record<string, string> = {}) =>
    h('input', { id, type: 'text', value: v ?? '', autocomplete: 'off', spellcheck: 'false', ...o }) as HTMLInputElement
  const host = text('hb-q-host', q.server?.host)
  const port = text('hb-q-port', q.server?.port === undefined ? '' : String(q.server.port), { inputmode: 'numeric' })
  const servername = text('hb-q-servername', q.server?.servername)
  const caFile = text('hb-q-ca', q.server?.caFile, { placeholder: tr('ui.hb.q.caPlaceholder') })
  const keyFile = text('hb-q-key', q.server?.keyFile, { placeholder: tr('ui.hb.q.keyPlaceholder') })
  const delay = text('hb-q-delay', q.fenceDelayMs === undefined ? '' : String(q.fenceDelayMs), { inputmode: 'numeric' })
  const err = h('div', { class: 'field-error', id: 'hb-q-error', role: 'alert' })
  // The refusal's field (server.host, twoNode, …) marks its input, so the operator sees which one to fix.
  const inputs: Record<string, HTMLElement> = {
    'server.host': host,
    'server.port': port,
    'server.servername': servername,
    'server.caFile': caFile,
    'server.keyFile': keyFile,
    server: host,
    twoNode: mode,
    fenceDelayMs: delay,
  }
  const row = (id: string, label: MessageKey, el: HTMLElement, hint?: MessageKey) =>
    h('div', { class: 'hb-q-row' }, h('label', { for: id }, tr(label)), el, hint && h('small', { class: 'muted' }, tr(hint)))
  const serverFields = h(
    'div',
    { id: 'hb-q-server' },
    row('hb-q-host', 'ui.hb.q.host', host),
    row('hb-q-port', 'ui.hb.q.port', port, 'ui.hb.q.portHint'),
    row('hb-q-servername', 'ui.hb.q.servername', servername, 'ui.hb.q.servernameHint'),
    row('hb-q-ca', 'ui.hb.q.ca', caFile, 'ui.hb.q.fileHint'),
    row('hb-q-key', 'ui.hb.q.key', keyFile, 'ui.hb.q.fileHint'),
  )
  const showServer = () => {
    serverFields.hidden = mode.value !== 'server'
  }
  mode.addEventListener('change', showServer)
  showServer()
  const numOrText = (v: string) => (/^\d+$/.test(v.trim()) ? Number(v.trim()) : v.trim())
  const change = (): Record<string, unknown> => {
    const c: Record<string, unknown> = { op: 'setQuorum' }
    if (mode.value === 'server')
      c.server = {
        host: host.value.trim(),
        ...(port.value.trim() ? { port: numOrText(port.value) } : {}),
        ...(servername.value.trim() ? { servername: servername.value.trim() } : {}),
        caFile: caFile.value.trim(),
        keyFile: keyFile.value.trim(),
      }
    else Object.assign(c, { server: null, twoNode: mode.value === 'two-node' })
    // Empty: the default delay (the field removed from hb.json); sent only when it differs from the file.
    const d = delay.value.trim()
    if (d !== (q.fenceDelayMs === undefined ? '' : String(q.fenceDelayMs))) c.fenceDelayMs = d ? numOrText(d) : null
    return c
  }
  const apply = button(
    tr('ui.hb.q.apply'),
    () => {
      apply.disabled = true
      err.textContent = ''
      for (const el of Object.values(inputs)) el.removeAttribute('aria-invalid')
      call<{ generation: number; summary: string }>('POST', '/api/hb/change', { change: change(), expectGeneration: hb.generation })
        .then((r) => {
          notify(tr('ui.hb.applied', { summary: r.summary, generation: r.generation }), 'ok')
          void loadConfig().catch(() => {})
          done()
        })
        .catch((e: unknown) => {
          const field = e instanceof ApiError ? e.field : undefined
          const detail = `${field ? `${field}: ` : ''}${(e as Error).message}`
          err.textContent = tr('ui.hb.notChanged', { detail })
          if (field && inputs[field]) {
            inputs[field]!.setAttribute('aria-invalid', 'true')
            inputs[field]!.focus()
          }
          notify(tr('ui.hb.notChanged', { detail }), 'error')
        })
        .finally(() => {
          apply.disabled = false
        })
    },
    { primary: true, id: 'hb-q-apply' },
  )
  return h(
    'fieldset',
    { id: 'hb-quorum', class: 'hb-quorum' },
    h('legend', null, tr('ui.hb.q.legend')),
    h('p', { id: 'hb-q-now' }, tr('ui.hb.q.now', { mode: tr(`ui.hb.q.mode.${quorumMode(hb)}` as MessageKey) })),
    row('hb-q-mode', 'ui.hb.q.mode', mode, 'ui.hb.q.modeHint'),
    serverFields,
    row('hb-q-delay', 'ui.hb.q.delay', delay, 'ui.hb.q.delayHint'),
    err,
    apply,
  )
}
