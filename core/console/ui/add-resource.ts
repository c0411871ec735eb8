// The Add Resource wizard: pick a type and a group, then fill the form the type's schema describes.
// The plugin's validate hook runs as you type (debounced) and on Add; its messages land under the
// field they name. Save errors from the server (400 with issues) do the same.
import { h, replace } from './dom.js'
import { api, ApiError, type TypeDetail } from './api.js'
import { state, select, groupNodes, loadConfig } from './store.js'
import { dialog, button, notify } from './dialogs.js'
import { schemaForm, suggestName, manualName, type SchemaForm } from './wizard.js'
import { showConfigWarnings } from './config-warnings.js'
import { tr } from './i18n.js'

export async function addResourceWizard(preferGroup?: string): Promise<void> {
  const d = dialog(tr('ui.ar.title'), { wide: true, id: 'add-resource' })
  const types = (state.types.length ? state.types : await api.types().catch(() => [])).filter((t) => t.kind !== 'fence')
  const groups = state.status?.groups.map((g) => g.name) ?? []
  const typeSel = h(
    'select',
    { id: 'ar-type' },
    h('option', { value: '' }, tr('ui.ar.chooseType')),
    types.map((t) => h('option', { value: t.name }, `${t.displayName} (${t.name} ${t.version})`)),
  )
  const groupSel = h(
    'select',
    { id: 'ar-group' },
    groups.map((g) => h('option', { value: g, selected: g === preferGroup }, g)),
  )
  const nameIn = h('input', { id: 'ar-name', pattern: '^[A-Za-z][A-Za-z0-9_.-]{0,63}$', 'aria-describedby': 'ar-name-err' })
  const nameErr = h('div', { class: 'field-error', id: 'ar-name-err', role: 'alert' })
  const critical = h('input', { type: 'checkbox', id: 'ar-critical', checked: true })
  const monitored = h('input', { type: 'checkbox', id: 'ar-monitored', checked: true })
  const typeInfo = h('div', { class: 'ar-typeinfo muted' })
  const formHost = h('div', { class: 'ar-form' }, h('p', { class: 'muted' }, tr('ui.ar.chooseToSee')))
  const topErr = h('div', { class: 'field-error', id: 'ar-error', role: 'alert' })
  let form: SchemaForm | null = null
  let detail: TypeDetail | null = null
  let nameTouched = false
  nameIn.addEventListener('input', () => {
    nameTouched = true
    nameErr.textContent = ''
  })

  d.body.append(
    h(
      'div',
      { class: 'ar-head' },
      h('div', null, h('label', { for: 'ar-type' }, tr('ui.ar.type')), typeSel),
      h('div', null, h('label', { for: 'ar-group' }, tr('ui.ar.group')), groupSel),
      h('div', null, h('label', { for: 'ar-name' }, tr('ui.ar.name')), nameIn, nameErr),
      h(
        'div',
        { class: 'ar-flags' },
        h('label', { class: 'check' }, critical, ` ${tr('ui.ar.critical')}`),
        h('label', { class: 'check' }, monitored, ` ${tr('ui.ar.monitored')}`),
      ),
    ),
    typeInfo,
    formHost,
    topErr,
  )

  let timer: ReturnType<typeof setTimeout> | undefined
  const scheduleCheck = () => {
    clearTimeout(timer)
    timer = setTimeout(() => void form?.validateRemote(), 400)
  }

  async function render(): Promise<void> {
    const type = typeSel.value
    if (!nameTouched || !nameIn.value) {
      nameIn.value = type ? suggestName(type, state.status?.groups.flatMap((g) => g.resources.map((r) => r.name)) ?? []) : ''
      nameTouched = false
    }
    if (!type) {
      form = null
      replace(formHost, h('p', { class: 'muted' }, tr('ui.ar.chooseToSee')))
      return
    }
    replace(formHost, h('p', { class: 'muted' }, tr('ui.ar.loading')))
    try {
      detail = await api.type(type)
    } catch (e) {
      replace(formHost, h('p', { class: 'field-error' }, tr('ui.ar.cannotLoad', { type, message: (e as Error).message })))
      return
    }
    replace(
      typeInfo,
      detail.description ? h('p', null, detail.description) : '',
      h('p', null, tr('ui.ar.permissions'), (detail.permissions ?? []).join(', ') || tr('ui.ar.none')),
    )
    form = schemaForm({
      type,
      schema: detail.wizard,
      nodes: groupNodes(groupSel.value),
      onEdit: () => {
        scheduleCheck()
        nameFromForm()
      },
      // The manual's address wizard offers the group's NIC resources (3.2.2.1): their devices come first.
      choices: (discover, node) =>
        type === 'address' && discover === 'nic'
          ? nicResources(node).map((x) => ({ value: x.device, label: tr('ui.ar.nicResource', { name: x.name, device: x.device }) }))
          : [],
    })
    replace(formHost, form.el)
    void form.refreshDiscover()
  }
  /** The group's NIC resources and their device on `node` (its own value there, else the common one). */
  function nicResources(node?: string): Array<{ name: string; device: string }> {
    return (state.config?.main.resources ?? [])
      .filter((r) => r.group === groupSel.value && r.type === 'nic')
      .map((r) => ({ name: r.name, device: String((node ? r.nodeAttrs?.[node]?.device : undefined) ?? r.attrs?.device ?? '') }))
      .filter((x) => x.device)
  }
  /** Until the user types a name of their own, it follows the form as the manual suggests (the adapter, the IP). */
  function nameFromForm(): void {
    if (nameTouched) return
    const field = (prop: string) => formHost.querySelector<HTMLInputElement>(`:is(input, select, textarea)[data-prop="${prop}"]`)
    const value = (prop: string) => field(prop)?.value ?? ''
    // The listed choice the field holds, by its label (the plugin's discover answer: an EIP's public IP).
    const label = (prop: string) => {
      const f = field(prop)
      return [...(f?.list?.options ?? [])].find((x) => x.value === f!.value)?.label ?? ''
    }
    const n = manualName(typeSel.value, value, state.status?.groups.flatMap((g) => g.resources.map((r) => r.name)) ?? [], label)
    if (n) nameIn.value = n
  }
  typeSel.addEventListener('change', () => void render())
  groupSel.addEventListener('change', () => void render())

  const add = button(tr('ui.btn.add'), () => void submit(), { primary: true, id: 'ar-add' })
  d.footer.append(
    button(
      tr('ui.ar.check'),
      () =>
        void form?.validateRemote().then((ok) => {
          if (ok) notify(tr('ui.ar.accepted'), 'ok')
        }),
      { id: 'ar-check' },
    ),
    button(tr('ui.btn.cancel'), () => d.close()),
    add,
  )

  async function submit(): Promise<void> {
    topErr.textContent = ''
    nameErr.textContent = ''
    if (!form || !detail) {
      topErr.textContent = tr('ui.ar.chooseTypeErr')
      return
    }
    if (!/^[A-Za-z][A-Za-z0-9_.-]{0,63}$/.test(nameIn.value)) {
      nameErr.textContent = tr('ui.ar.nameRule')
      return
    }
    const v = form.values()
    if (!v) {
      topErr.textContent = tr('ui.ar.fix')
      return
    }
    add.disabled = true
    try {
      if (!(await form.validateRemote())) {
        topErr.textContent = tr('ui.ar.refused')
        return
      }
      const done = await api.addResource({
        name: nameIn.value,
        type: typeSel.value,
        group: groupSel.value,
        attrs: v.attrs,
        nodeAttrs: v.nodeAttrs,
        critical: critical.checked,
        monitored: monitored.checked,
      })
      notify(tr('ui.ar.added', { name: nameIn.value, group: groupSel.value }), 'ok')
      showConfigWarnings(tr('ui.ar.addedShort', { name: nameIn.value }), done)
      // An address on a NIC resource's device depends on that resource (the manual's order: address → NIC).
      const first = groupNodes(groupSel.value)[0]
      const nic = typeSel.value === 'address' ? String((first ? v.nodeAttrs[first]?.nic : undefined) ?? v.attrs.nic ?? '') : ''
      const under = nic ? nicResources(first).find((x) => x.device === nic) : undefined
      if (under) {
        try {
          const linked = await api.link(nameIn.value, under.name)
          notify(tr('ui.ar.linkedNic', { name: nameIn.value, nic: under.name }), 'ok')
          showConfigWarnings(tr('ui.ar.addedShort', { name: nameIn.value }), linked)
        } catch (e) {
          notify(`${tr('ui.ar.linkedNic', { name: nameIn.value, nic: under.name })}: ${(e as Error).message}`, 'error')
        }
      }
      d.close()
      await loadConfig().catch(() => {})
      select({ kind: 'resource', name: nameIn.value })
    } catch (e) {
      const ae = e instanceof ApiError ? e : null
      const issues = ae ? [...ae.issues, ...(ae.field ? [{ field: ae.field, message: ae.message }] : [])] : []
      const left = form.showIssues(issues.filter((i) => !/^\/(name|group|type)$/.test(i.field)))
      for (const i of issues.filter((x) => /^\/(name|group|type)$/.test(x.field)))
        (i.field === '/name' ? nameErr : topErr).textContent = i.message
      topErr.textContent ||= ae ? `${ae.message} (${ae.code})${left.length ? '' : ''}` : (e as Error).message
    } finally {
      add.disabled = false
    }
  }
  if (preferGroup) groupSel.value = preferGroup
}
