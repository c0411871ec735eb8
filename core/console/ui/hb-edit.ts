// The heartbeat dialog's timing editor (issue 16, What 3): POST /api/hb/change setTiming, the same live change
// as `mccs hb set-timing` (through the coordinator, two phases on every member). A refusal is shown with its
// field and reason; nothing changed then. Nodes and links are changed with `mccs hb` / the REST route.
import { h } from './dom.js'
import { call, ApiError } from './api.js'
import { loadConfig } from './store.js'
import { button, notify } from './dialogs.js'
import { tr } from './i18n.js'
import type { HbConfig } from '../../config/hb-model.js'

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
