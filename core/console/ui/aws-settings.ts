// Edit → AWS settings (issue 18, What 3; the manual's "Add AWS CLI Profile", 3.2.3): one column per node —
// region, endpoint, and the AWS CLI profile its agent uses (or the instance role) — with Add AWS CLI Profile
// per node, Save, and Check, which asks every node at once over the peer channel (each column shows its
// own progress and answer: OK, or what is wrong and which setting). Keys are sent once and never shown
// again: a profile reads "keys set".
import { h, replace } from './dom.js'
import { api, ApiError, type AwsCheckResult, type AwsNodeView, type AwsSettingsInput } from './api.js'
import { dialog, button, notify } from './dialogs.js'
import { tr } from './i18n.js'

interface Column {
  node: string
  view: AwsNodeView | null
  region: HTMLInputElement
  endpoint: HTMLInputElement
  profile: HTMLSelectElement
  profiles: HTMLElement
  check: HTMLElement
  errors: Record<'region' | 'endpoint' | 'profile' | 'node', HTMLElement>
}

const ERROR_FIELDS = ['region', 'endpoint', 'profile', 'node'] as const

function profileOptions(sel: HTMLSelectElement, v: AwsNodeView | null, chosen: string): void {
  const names = new Set((v?.profiles ?? []).map((p) => p.name))
  if (chosen) names.add(chosen)
  replace(
    sel,
    h('option', { value: '' }, tr('ui.aws.instanceRole')),
    [...names].sort().map((n) => {
      const p = v?.profiles.find((x) => x.name === n)
      const info = p ? [p.region, p.credentials === 'set' ? tr('ui.aws.keysSet') : tr('ui.aws.noKeys')].filter(Boolean).join(', ') : ''
      return h('option', { value: n }, info ? `${n} (${info})` : n)
    }),
  )
  sel.value = chosen
}

/** What a check answered, in words an operator can act on: which setting and why. */
export function checkText(r: AwsCheckResult): string {
  if (r.ok) return tr('ui.aws.check.ok', { profile: r.profile, region: r.region ?? '?', ms: r.ms })
  if (r.code === 'MCCS_ERR_AWS_UNREACHABLE' && r.field === 'endpoint')
    return tr('ui.aws.check.unreachable', { endpoint: r.endpoint ?? tr('ui.aws.publicEndpoint'), reason: r.message })
  if (r.code === 'MCCS_ERR_AWS_UNREACHABLE' && r.field === 'profile')
    return tr('ui.aws.check.credentials', { profile: r.profile, reason: r.message })
  if (r.code === 'MCCS_ERR_AWS_CONFIG') return tr('ui.aws.check.config', { field: r.field ?? '?', reason: r.message })
  if (r.awsCode === 'UnauthorizedOperation') return tr('ui.aws.check.denied', { profile: r.profile })
  return tr('ui.aws.check.refused', { field: r.field ?? 'profile', code: r.awsCode ?? r.code ?? '?', reason: r.message })
}

/** Resolves when the dialog is closed (the wizard then asks its profile lists again). */
export async function awsSettingsDialog(): Promise<void> {
  const d = dialog(tr('ui.aws.title'), { id: 'aws-dlg', wide: true })
  const top = h('div', { class: 'field-error', role: 'alert', id: 'aws-error' })
  d.body.append(h('p', { class: 'muted' }, tr('ui.aws.intro')), top)
  let data: Awaited<ReturnType<typeof api.aws>>
  try {
    data = await api.aws()
  } catch (e) {
    top.textContent = e instanceof ApiError ? `${e.message} (${e.code})` : (e as Error).message
    d.footer.append(button(tr('ui.btn.close'), () => d.close()))
    return d.closed
  }
  const cols: Column[] = data.nodes.map((n) => {
    const view = 'error' in n ? null : n
    const id = (what: string) => `aws-${what}-${n.node}`
    const errors = Object.fromEntries(
      ERROR_FIELDS.map((f) => [f, h('div', { class: 'field-error', role: 'alert', id: id(`${f}-err`) })]),
    ) as unknown as Column['errors']
    const col: Column = {
      node: n.node,
      view,
      region: h('input', {
        id: id('region'),
        value: view?.settings.region ?? '',
        placeholder: tr('ui.aws.regionExample'),
        'aria-describedby': id('region-err'),
      }),
      endpoint: h('input', {
        id: id('endpoint'),
        value: view?.settings.endpoint ?? '',
        placeholder: tr('ui.aws.publicEndpoint'),
        'aria-describedby': id('endpoint-err'),
      }),
      profile: h('select', { id: id('profile'), 'aria-describedby': id('profile-err') }),
      profiles: h('div', { id: id('profiles'), class: 'muted' }),
      check: h('div', { id: id('check'), role: 'status', 'aria-live': 'polite', class: 'aws-check' }),
      errors,
    }
    profileOptions(col.profile, view, view?.settings.profile ?? '')
    showProfiles(col)
    if (!view) {
      errors.node.textContent = tr('ui.aws.nodeUnreachable', { node: n.node, reason: (n as { error: { message: string } }).error.message })
      for (const x of [col.region, col.endpoint, col.profile]) x.disabled = true
    } else if (view.problem) errors.node.textContent = tr('ui.aws.fileProblem', { file: view.files.settings, reason: view.problem })
    return col
  })
  const row = (label: string, cell: (c: Column) => HTMLElement | HTMLElement[]) =>
    h(
      'tr',
      null,
      h('th', { scope: 'row' }, label),
      cols.map((c) => h('td', { class: 'wz-cell' }, cell(c))),
    )
  d.body.append(
    h(
      'table',
      { class: 'wz-table', id: 'aws-table' },
      h(
        'thead',
        null,
        h(
          'tr',
          null,
          h('th', null, ''),
          cols.map((c) => h('th', { scope: 'col' }, c.node)),
        ),
      ),
      h(
        'tbody',
        null,
        row(tr('ui.aws.region'), (c) => [c.region, c.errors.region]),
        row(tr('ui.aws.endpoint'), (c) => [c.endpoint, c.errors.endpoint]),
        row(tr('ui.aws.profile'), (c) => [
          c.profile,
          c.errors.profile,
          c.profiles,
          button(tr('ui.aws.addProfile'), () => void addProfileDialog(c, cols), { id: `aws-addprofile-${c.node}`, disabled: !c.view }),
        ]),
        row(tr('ui.aws.check'), (c) => [c.check, c.errors.node]),
      ),
    ),
  )
  const settingsOf = (c: Column): AwsSettingsInput => ({
    ...(c.region.value.trim() ? { region: c.region.value.trim() } : {}),
    ...(c.endpoint.value.trim() ? { endpoint: c.endpoint.value.trim() } : {}),
    ...(c.profile.value ? { profile: c.profile.value } : {}),
  })
  const clearErrors = () => {
    top.textContent = ''
    for (const c of cols) for (const f of ['region', 'endpoint', 'profile'] as const) c.errors[f].textContent = ''
  }
  /** Shows a refusal under the field it names; true when it was placed. */
  const place = (c: Column, e: unknown): void => {
    const ae = e instanceof ApiError ? e : null
    const f = ae?.field?.replace(/^\//, '').split('/')[0]
    const target = f === 'region' || f === 'endpoint' || f === 'profile' ? c.errors[f] : c.errors.node
    target.textContent = ae ? `${ae.message}` : (e as Error).message
  }
  const checkAll = async (saved: boolean) => {
    await Promise.all(
      cols
        .filter((c) => c.view)
        .map(async (c) => {
          // Progress: the seconds waited so far, until this node answers (a few seconds at most).
          const t0 = Date.now()
          c.check.className = 'aws-check aws-checking'
          const tick = () => (c.check.textContent = tr('ui.aws.checking', { s: ((Date.now() - t0) / 1000).toFixed(1) }))
          tick()
          const timer = setInterval(tick, 100)
          try {
            const r = await api.checkAws(c.node, saved ? undefined : settingsOf(c))
            c.check.textContent = `${r.ok ? '✔' : '✖'} ${checkText(r)}`
            c.check.className = `aws-check ${r.ok ? 'aws-ok' : 'aws-bad'}`
          } catch (e) {
            c.check.textContent = `✖ ${e instanceof ApiError ? `${e.message}${e.field ? ` [${e.field}]` : ''}` : (e as Error).message}`
            c.check.className = 'aws-check aws-bad'
          } finally {
            clearInterval(timer)
          }
        }),
    )
  }
  d.footer.append(
    button(tr('ui.btn.close'), () => d.close()),
    button(
      tr('ui.aws.checkBtn'),
      () => {
        clearErrors()
        void checkAll(false)
      },
      { id: 'aws-check' },
    ),
    button(
      tr('ui.btn.save'),
      async () => {
        clearErrors()
        let failed = 0
        // Each node's own settings: a refusal on one node names its field there and writes nothing on it.
        await Promise.all(
          cols
            .filter((c) => c.view)
            .map(async (c) => {
              try {
                c.view = await api.setAws(c.node, settingsOf(c))
              } catch (e) {
                failed++
                place(c, e)
              }
            }),
        )
        if (failed) {
          top.textContent = tr('ui.aws.notSaved')
          return
        }
        notify(tr('ui.aws.saved'), 'ok')
        await checkAll(true)
      },
      { primary: true, id: 'aws-save' },
    ),
  )
  return d.closed
}

function showProfiles(c: Column): void {
  const list = c.view?.profiles ?? []
  c.profiles.textContent = list.length
    ? tr('ui.aws.profilesHere', {
        list: list.map((p) => `${p.name}${p.credentials === 'set' ? '' : ` (${tr('ui.aws.noKeys')})`}`).join(', '),
      })
    : tr('ui.aws.noProfiles')
}

/** Add AWS CLI Profile: the keys go to the chosen nodes' agent user's files and are not shown again. */
function addProfileDialog(col: Column, cols: Column[]): Promise<void> {
  const d = dialog(tr('ui.aws.addProfile'), { id: 'aws-profile-dlg' })
  const field = (id: string, label: string, attrs: Record<string, unknown> = {}) => {
    const input = h('input', { id, 'aria-describedby': `${id}-err`, autocomplete: 'off', ...attrs })
    const err = h('div', { class: 'field-error', role: 'alert', id: `${id}-err` })
    d.body.append(h('label', { for: id }, label), input, err)
    return { input, err }
  }
  const f = {
    name: field('awsp-name', tr('ui.aws.p.name'), { value: 'mccs' }),
    accessKeyId: field('awsp-key', tr('ui.aws.p.accessKeyId')),
    secretAccessKey: field('awsp-secret', tr('ui.aws.p.secret'), { type: 'password' }),
    sessionToken: field('awsp-token', tr('ui.aws.p.token'), { type: 'password' }),
    region: field('awsp-region', tr('ui.aws.p.region'), { value: col.region.value, placeholder: tr('ui.aws.regionExample') }),
  }
  const others = cols.filter((c) => c !== col && c.view)
  const all = h('input', { type: 'checkbox', id: 'awsp-all', checked: true })
  if (others.length) d.body.append(h('label', { class: 'check' }, all, ` ${tr('ui.aws.p.allNodes')}`))
  const err = h('div', { class: 'field-error', role: 'alert', id: 'awsp-error' })
  d.body.append(err)
  d.footer.append(
    button(tr('ui.btn.cancel'), () => d.close()),
    button(
      tr('ui.btn.add'),
      async () => {
        for (const x of Object.values(f)) x.err.textContent = ''
        err.textContent = ''
        const body: Record<string, string> = {}
        for (const [k, x] of Object.entries(f)) if (x.input.value !== '') body[k] = x.input.value
        const targets = [col, ...(all.checked ? others : [])]
        for (const c of targets) {
          try {
            c.view = await api.addAwsProfile(c.node, body)
          } catch (e) {
            const ae = e instanceof ApiError ? e : null
            const k = ae?.field?.replace(/^\//, '') as keyof typeof f | undefined
            ;(k && f[k] ? f[k].err : err).textContent = `${c.node}: ${ae ? ae.message : (e as Error).message}`
            return
          }
          profileOptions(c.profile, c.view, body.name!)
          showProfiles(c)
        }
        notify(tr('ui.aws.p.added', { name: body.name ?? '', nodes: targets.map((c) => c.node).join(', ') }), 'ok')
        d.close()
      },
      { primary: true, id: 'awsp-add' },
    ),
  )
  return d.closed
}
