// A form rendered from a resource type's wizard schema alone (JSON Schema 2020-12 + `x-mccs` hints),
// so a third party's type gets its wizard with no console change. Per-node fields (`scope: "node"`)
// get one column per node of the group (the manual's Active / StandBy columns); `discover` fields are
// lists the plugin fills, refreshable; the plugin's validate hook answers under the field it names.
// An object field with `schemaFrom` gets its own form from a schema the plugin's discover hook makes for
// the other fields' values (an OCF agent's parameters from its meta-data), rendered by this same code.
import { h, replace } from './dom.js'
import { api, ApiError, type AwsCheckResult, type JsonSchema } from './api.js'
import { awsSettingsDialog, checkText } from './aws-settings.js'
import { tr } from './i18n.js'

interface Hints {
  scope?: string
  discover?: string
  schemaFrom?: string
  widget?: string
  order?: number
  group?: string
  secret?: boolean
}
interface Field {
  prop: string
  schema: JsonSchema
  hints: Hints
  title: string
  required: boolean
  kind: 'text' | 'textarea' | 'password' | 'number' | 'boolean' | 'enum' | 'list' | 'map' | 'discover' | 'schema'
  perNode: boolean
}
export interface Diagnostic {
  field: string
  message: string
  hint?: string
}
export interface FormValues {
  attrs: Record<string, unknown>
  nodeAttrs: Record<string, Record<string, unknown>>
}

export interface SchemaForm {
  el: HTMLElement
  /** The values, or null with the local problems shown inline. */
  values(): FormValues | null
  /** Puts each diagnostic under its field; answers the ones no field took. */
  showIssues(diags: Diagnostic[]): Diagnostic[]
  clearIssues(): void
  /** Runs the plugin's validate hook on the current values; true when it answered ok. */
  validateRemote(): Promise<boolean>
  refreshDiscover(): Promise<void>
}

const hintsOf = (s: JsonSchema): Hints => (s['x-mccs'] as Hints | undefined) ?? {}

function resolve(root: JsonSchema, s: JsonSchema): JsonSchema {
  const ref = s.$ref
  if (typeof ref !== 'string' || !ref.startsWith('#/')) return s
  let target: unknown = root
  for (const part of ref.slice(2).split('/'))
    target = (target as Record<string, unknown> | undefined)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')]
  const { $ref: _drop, ...rest } = s
  return { ...resolve(root, (target as JsonSchema | undefined) ?? {}), ...rest }
}

function kindOf(s: JsonSchema, hints: Hints): Field['kind'] {
  if (hints.schemaFrom && s.type === 'object' && hints.scope !== 'node') return 'schema'
  if (hints.discover) return 'discover'
  if (Array.isArray(s.enum)) return 'enum'
  const t = s.type
  if (t === 'boolean' || hints.widget === 'checkbox') return 'boolean'
  if (t === 'integer' || t === 'number' || hints.widget === 'number') return 'number'
  if (t === 'array' || hints.widget === 'list') return 'list'
  if (t === 'object') return 'map'
  if (hints.widget === 'password' || hints.secret) return 'password'
  if (hints.widget === 'textarea') return 'textarea'
  return 'text'
}

export function fieldsOf(schema: JsonSchema): Field[] {
  const props = (schema.properties ?? {}) as Record<string, JsonSchema>
  const required = new Set((schema.required as string[] | undefined) ?? [])
  return Object.entries(props)
    .map(([prop, raw], i) => {
      const s = resolve(schema, raw)
      const hints = hintsOf(s)
      return {
        prop,
        schema: s,
        hints: { order: 1000 + i, ...hints },
        title: typeof s.title === 'string' ? s.title : prop,
        required: required.has(prop),
        kind: kindOf(s, hints),
        perNode: hints.scope === 'node',
      }
    })
    .sort((a, b) => (a.hints.order ?? 0) - (b.hints.order ?? 0))
}

const fieldId = (prop: string, node?: string) => `wz-${prop}${node ? `--${node}` : ''}`.replace(/[^A-Za-z0-9_-]/g, '_')

export function schemaForm(o: {
  type: string
  schema: JsonSchema
  nodes: string[]
  initial?: FormValues
  /** Prefix of the element ids (a nested form's fields: `wz-params_ip`). */
  idPrefix?: string
  /** Called after any edit (the caller debounces remote checks through validateRemote). */
  onEdit?: () => void
  /** Choices the console knows besides the plugin's, listed first (the group's NIC resources for a `nic`
   *  field, as the manual's address wizard offers them). */
  choices?: (discover: string, node?: string) => Array<{ value: string; label: string }>
  /** Per-node overrides of the common fields (a resource's attribute tab): each such field can take another
   *  value on some nodes (main.json's nodeAttrs, what `mccs resource edit --node-attr` sets); the ones in
   *  `initial` are shown open. */
  overrides?: boolean
}): SchemaForm {
  const fields = fieldsOf(o.schema)
  const inputs = new Map<string, HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement>()
  const errors = new Map<string, HTMLElement>()
  const notes = new Map<string, HTMLElement>()
  const lists = new Map<string, HTMLElement>()
  const key = (prop: string, node?: string) => (node ? `${prop}@${node}` : prop)
  const general = h('div', { class: 'wz-general field-error', role: 'alert' })
  const fid = (prop: string, node?: string) => fieldId(`${o.idPrefix ?? ''}${prop}`, node)
  /** Nested forms of `schemaFrom` fields, with the request that made them. */
  const subs = new Map<string, { form: SchemaForm; asked: string }>()
  const subHosts = new Map<string, HTMLElement>()
  const asking = new Map<string, string>()

  const initialValue = (f: Field, node?: string): unknown =>
    node
      ? (o.initial?.nodeAttrs[node]?.[f.prop] ?? (o.initial ? undefined : f.schema.default))
      : o.initial
        ? o.initial.attrs[f.prop]
        : f.schema.default

  function control(f: Field, node?: string): HTMLElement {
    const id = fid(f.prop, node)
    const v = initialValue(f, node)
    const common = {
      id,
      name: id,
      'data-prop': f.prop,
      'data-node': node,
      'aria-describedby': `${id}-err`,
      'aria-label': node ? tr('ui.wz.fieldOn', { field: f.title, node }) : f.title,
    }
    let input: HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement
    let extra: HTMLElement | null = null
    switch (f.kind) {
      case 'boolean':
        input = h('input', { ...common, type: 'checkbox', checked: v === true })
        break
      case 'number':
        input = h('input', {
          ...common,
          type: 'number',
          step: f.schema.type === 'integer' ? 1 : 'any',
          min: f.schema.minimum,
          max: f.schema.maximum,
          value: v ?? '',
        })
        break
      case 'enum':
        input = h(
          'select',
          common,
          h('option', { value: '' }, f.schema.default !== undefined ? `(default: ${String(f.schema.default)})` : '— choose —'),
          ...(f.schema.enum as unknown[]).map((x) =>
            h('option', { value: String(x), selected: x === v && x !== f.schema.default }, String(x)),
          ),
        )
        break
      case 'discover': {
        // A text field with the plugin's choices as its list: pick one, or type a value it did not find.
        const list = h('datalist', { id: `${id}-list` })
        lists.set(key(f.prop, node), list)
        input = h('input', {
          ...common,
          type: 'text',
          list: `${id}-list`,
          'data-discover': f.hints.discover,
          value: v ?? '',
          placeholder: tr('ui.wz.chooseOrType'),
          autocomplete: 'off',
        })
        const note = h('span', { class: 'wz-note muted', id: `${id}-note` })
        notes.set(key(f.prop, node), note)
        // A value the plugin makes up (the manual's Generate beside the virtual MAC): one click fills it.
        const generate = GENERATED.has(f.hints.discover ?? '')
        extra = h(
          'span',
          { class: 'wz-discover' },
          list,
          generate &&
            h(
              'button',
              { type: 'button', class: 'btn btn-small', id: `${id}-generate`, onclick: () => void discoverOne(f, node, true) },
              tr('ui.wz.generate'),
            ),
          !generate &&
            h(
              'button',
              {
                type: 'button',
                class: 'btn btn-small',
                title: tr('ui.wz.askAgain'),
                'aria-label': tr('ui.wz.refresh', { field: node ? tr('ui.wz.fieldOn', { field: f.title, node }) : f.title }),
                'data-refresh': id,
                onclick: () => void discoverOne(f, node),
              },
              '↻ Refresh',
            ),
          // The manual's "Add AWS CLI Profile" beside an AWS type's profile list: the AWS settings dialog,
          // then the lists asked again.
          f.hints.discover === 'profile' &&
            node === o.nodes[0] &&
            h(
              'button',
              {
                type: 'button',
                class: 'btn btn-small',
                id: `${id}-add-profile`,
                onclick: () =>
                  void awsSettingsDialog().then(() => {
                    profileChecks.clear() // the settings or keys may have changed: check afresh
                    return Promise.all(o.nodes.map((n) => discoverOne(f, n)))
                  }),
              },
              tr('ui.aws.addProfile'),
            ),
          note,
        )
        break
      }
      case 'list':
        input = h('textarea', { ...common, rows: 3, placeholder: tr('ui.wz.onePerLine'), value: Array.isArray(v) ? v.join('\n') : '' })
        break
      case 'map':
      case 'schema':
        // A schemaFrom field stays NAME=value lines until (unless) the plugin answers with its schema.
        input = h('textarea', {
          ...common,
          rows: 2,
          placeholder: tr('ui.wz.envPerLine'),
          value:
            v && typeof v === 'object'
              ? Object.entries(v)
                  .map(([k, x]) => `${k}=${String(x)}`)
                  .join('\n')
              : '',
        })
        if (f.kind === 'schema') {
          extra = h('div', { class: 'wz-sub', id: `${id}-sub` }, h('span', { class: 'wz-note muted', id: `${id}-note` }))
          subHosts.set(f.prop, extra)
        }
        break
      case 'textarea':
        input = h('textarea', { ...common, rows: 3, value: v ?? '' })
        break
      default:
        input = h('input', {
          ...common,
          type: f.kind === 'password' ? 'password' : 'text',
          value: v ?? '',
          placeholder: f.schema.default !== undefined ? `default: ${String(f.schema.default)}` : '',
        })
    }
    input.addEventListener('input', () => {
      errOf(f.prop, node).textContent = ''
      o.onEdit?.()
      if (f.kind !== 'schema' && subHosts.size) scheduleSchemas()
    })
    input.addEventListener('change', () => o.onEdit?.())
    inputs.set(key(f.prop, node), input)
    const err = h('div', {
      class: 'field-error',
      id: `${id}-err`,
      role: 'alert',
      'data-field': node ? `/nodes/${node}/${f.prop}` : `/${f.prop}`,
    })
    errors.set(key(f.prop, node), err)
    return h('div', { class: 'wz-cell' }, h('div', { class: 'wz-ctl' }, input, extra), err)
  }
  const errOf = (prop: string, node?: string) => errors.get(key(prop, node)) ?? errors.get(prop) ?? general

  /** The override switches of the common fields, by key(prop, node): checked = this node has its own value. */
  const overridden = new Map<string, HTMLInputElement>()
  /** A common field's per-node overrides: one switch and one input per node, the input off while the switch is. */
  function overrideBlock(f: Field): HTMLElement {
    const has = o.nodes.filter((n) => o.initial?.nodeAttrs[n]?.[f.prop] !== undefined)
    const summary = h('summary', null, has.length ? tr('ui.wz.overridden', { nodes: has.join(', ') }) : tr('ui.wz.overrides'))
    const rows = o.nodes.map((n) => {
      const ctl = control(f, n)
      const input = inputs.get(key(f.prop, n))!
      const sw = h('input', {
        type: 'checkbox',
        id: `${fid(f.prop, n)}-ovr`,
        'data-override': f.prop,
        'data-node': n,
        checked: has.includes(n),
      })
      const sync = () => {
        input.disabled = !sw.checked
        const on = o.nodes.filter((x) => overridden.get(key(f.prop, x))?.checked)
        summary.textContent = on.length ? tr('ui.wz.overridden', { nodes: on.join(', ') }) : tr('ui.wz.overrides')
      }
      sw.addEventListener('change', () => {
        errOf(f.prop, n).textContent = ''
        sync()
        o.onEdit?.()
      })
      overridden.set(key(f.prop, n), sw)
      input.disabled = !sw.checked
      return h('div', { class: 'wz-override' }, h('label', { class: 'check' }, sw, ` ${tr('ui.wz.overrideOn', { node: n })}`), ctl)
    })
    return h('details', { class: 'wz-overrides', open: has.length > 0 }, summary, rows)
  }

  // Fields grouped under their x-mccs group heading, in order of first appearance.
  const groups = new Map<string, Field[]>()
  for (const f of fields) {
    const g = f.hints.group ?? ''
    groups.set(g, [...(groups.get(g) ?? []), f])
  }
  const anyPerNode = fields.some((f) => f.perNode)
  const head = h(
    'tr',
    null,
    h('th', { scope: 'col' }, tr('ui.wz.attribute')),
    anyPerNode
      ? o.nodes.map((n, i) =>
          h(
            'th',
            { scope: 'col', class: 'wz-nodecol' },
            n,
            h('span', { class: 'muted' }, ` ${tr(i === 0 ? 'ui.wz.activeCol' : 'ui.wz.standbyCol')}`),
          ),
        )
      : h('th', { scope: 'col' }, tr('ui.wz.value')),
  )
  const sections = [...groups].map(([g, fs]) =>
    h(
      'tbody',
      { class: 'wz-group' },
      g && h('tr', { class: 'wz-group-head' }, h('th', { colspan: 1 + (anyPerNode ? o.nodes.length : 1), scope: 'rowgroup' }, g)),
      fs.map((f) =>
        h(
          'tr',
          { class: 'wz-row', 'data-prop': f.prop },
          h(
            'th',
            { scope: 'row', class: 'wz-label' },
            h(
              'label',
              { for: fid(f.prop, f.perNode ? o.nodes[0] : undefined) },
              f.title,
              f.required && h('span', { class: 'req', title: tr('ui.wz.required') }, ' *'),
            ),
            f.perNode && h('span', { class: 'scope-tag', title: tr('ui.wz.perNodeTitle') }, tr('ui.wz.perNode')),
            typeof f.schema.description === 'string' && h('div', { class: 'wz-desc muted' }, f.schema.description),
          ),
          f.perNode
            ? o.nodes.map((n) => h('td', null, control(f, n)))
            : h(
                'td',
                { colspan: anyPerNode ? o.nodes.length : 1 },
                control(f),
                o.overrides && f.kind !== 'schema' && o.nodes.length > 0 && overrideBlock(f),
              ),
        ),
      ),
    ),
  )
  const el = h('div', { class: 'wz-form' }, general, h('table', { class: 'wz-table' }, h('thead', null, head), sections))

  function read(f: Field, node?: string): { value?: unknown; error?: string } {
    const input = inputs.get(key(f.prop, node))!
    if (f.kind === 'boolean') return { value: (input as HTMLInputElement).checked }
    const raw = input.value
    if (raw.trim() === '') return {}
    switch (f.kind) {
      case 'number': {
        const n = Number(raw)
        if (!Number.isFinite(n)) return { error: tr('ui.wz.number') }
        if (f.schema.type === 'integer' && !Number.isInteger(n)) return { error: tr('ui.wz.integer') }
        if (typeof f.schema.minimum === 'number' && n < f.schema.minimum) return { error: tr('ui.wz.min', { min: f.schema.minimum }) }
        if (typeof f.schema.maximum === 'number' && n > f.schema.maximum) return { error: tr('ui.wz.max', { max: f.schema.maximum }) }
        return { value: n }
      }
      case 'list': {
        const items = raw
          .split('\n')
          .map((x) => x.replace(/\r$/, ''))
          .filter((x, i, a) => x !== '' || a.slice(i).some((y) => y !== ''))
        const first = (f.schema.prefixItems as JsonSchema[] | undefined)?.[0]?.pattern
        if (typeof first === 'string' && items[0] !== undefined && !new RegExp(first).test(items[0]))
          return { error: first === '^/' ? tr('ui.wz.firstAbs') : tr('ui.wz.firstMatch', { pattern: first }) }
        // A whole command line typed on one line is one item: a program named '/usr/bin/x -a b', which the
        // schema accepts and online then fails to find (issue 18, Acceptance 4: a newcomer did exactly this).
        if (first === '^/' && items.length === 1 && /^\/\S*\s+\S/.test(items[0]!))
          return { error: tr('ui.wz.oneLine', { first: items[0]!.split(/\s+/)[0]! }) }
        if (typeof f.schema.minItems === 'number' && items.length < f.schema.minItems)
          return { error: tr('ui.wz.minItems', { n: f.schema.minItems }) }
        return { value: items }
      }
      case 'map': {
        const out: Record<string, string> = {}
        for (const line of raw.split('\n').filter((l) => l.trim())) {
          const at = line.indexOf('=')
          if (at < 1) return { error: tr('ui.wz.notEnv', { line }) }
          out[line.slice(0, at).trim()] = line.slice(at + 1)
        }
        return { value: out }
      }
      default: {
        if (typeof f.schema.pattern === 'string' && !new RegExp(f.schema.pattern as string, 'u').test(raw))
          return {
            error: f.schema.pattern === '^/' ? tr('ui.wz.abs') : tr('ui.wz.pattern', { pattern: String(f.schema.pattern) }),
          }
        if (typeof f.schema.maxLength === 'number' && raw.length > f.schema.maxLength)
          return { error: tr('ui.wz.maxLength', { n: f.schema.maxLength }) }
        return { value: raw }
      }
    }
  }

  function values(): FormValues | null {
    clearIssues()
    let bad = 0
    const attrs: Record<string, unknown> = {}
    const nodeAttrs: Record<string, Record<string, unknown>> = {}
    for (const f of fields) {
      const sub = subs.get(f.prop)
      if (sub) {
        // Per-node values of the nested form: the whole object per node (a node's attributes replace the
        // global ones key by key, so a node's `params` must carry the global entries too).
        const v = sub.form.values()
        if (!v) {
          bad++
          continue
        }
        if (Object.keys(v.attrs).length) attrs[f.prop] = v.attrs
        for (const [n, na] of Object.entries(v.nodeAttrs)) (nodeAttrs[n] ??= {})[f.prop] = { ...v.attrs, ...na }
        continue
      }
      for (const node of f.perNode ? o.nodes : [undefined]) {
        const r = read(f, node)
        if (r.error) {
          errOf(f.prop, node).textContent = r.error
          bad++
          continue
        }
        if (r.value === undefined) {
          if (f.required) {
            errOf(f.prop, node).textContent = node ? tr('ui.wz.requiredOn', { node }) : tr('ui.wz.required')
            bad++
          }
          continue
        }
        if (node) (nodeAttrs[node] ??= {})[f.prop] = r.value
        else attrs[f.prop] = r.value
      }
      // A common field's overrides: a node switched on has its own value, which must be given.
      if (!f.perNode)
        for (const node of o.nodes) {
          if (!overridden.get(key(f.prop, node))?.checked) continue
          const r = read(f, node)
          if (r.error || r.value === undefined) {
            errOf(f.prop, node).textContent = r.error ?? tr('ui.wz.overrideEmpty', { node })
            bad++
            continue
          }
          ;(nodeAttrs[node] ??= {})[f.prop] = r.value
        }
    }
    return bad ? null : { attrs, nodeAttrs }
  }

  function clearIssues(): void {
    general.textContent = ''
    for (const e of errors.values()) e.textContent = ''
    for (const s of subs.values()) s.form.clearIssues()
  }

  function showIssues(diags: Diagnostic[]): Diagnostic[] {
    const left: Diagnostic[] = []
    for (const d of diags) {
      // /nodes/<node>/<prop>, /nodeAttrs/<node>/<prop>, /attrs/<prop>, /<prop>
      const p = d.field
        .split('/')
        .slice(1)
        .map((x) => x.replace(/~1/g, '/').replace(/~0/g, '~'))
      let prop: string | undefined, node: string | undefined, rest: string[]
      if ((p[0] === 'nodes' || p[0] === 'nodeAttrs' || p[0] === 'perNode') && p.length >= 3) {
        node = p[1]
        prop = p[2]
        rest = p.slice(3)
      } else if (p[0] === 'attrs' && p.length >= 2) {
        prop = p[1]
        rest = p.slice(2)
      } else {
        prop = p[0]
        rest = p.slice(1)
      }
      const f = fields.find((x) => x.prop === prop)
      if (!f) {
        left.push(d)
        continue
      }
      const sub = subs.get(f.prop)
      // Inside a nested form (…/params/ip): under that form's field.
      if (sub && rest.length && !sub.form.showIssues([{ ...d, field: `${node ? `/nodes/${node}` : ''}/${rest.join('/')}` }]).length)
        continue
      // A node's error on a common field goes under that node's override when it has one.
      const target =
        (node && !f.perNode ? errors.get(key(f.prop, node)) : undefined) ?? errors.get(key(f.prop, f.perNode ? node : undefined))
      if (!target) {
        left.push(d)
        continue
      }
      const text = `${!f.perNode && node ? tr('ui.wz.onNode', { node }) : ''}${d.message}${d.hint ? ` (${d.hint})` : ''}`
      target.textContent = target.textContent ? `${target.textContent}; ${text}` : text
    }
    if (left.length) general.textContent = left.map((d) => `${d.field || '(form)'}: ${d.message}`).join('; ')
    return left
  }

  async function validateRemote(): Promise<boolean> {
    const v = values()
    if (!v) return false
    const perNode = Object.fromEntries(o.nodes.map((n) => [n, { ...v.attrs, ...(v.nodeAttrs[n] ?? {}) }]))
    // An AWS type: each node's profile is checked on that node first (the manual: on both nodes), a few
    // seconds at most with progress in its column; the type's validate hook is asked only once EC2 answers.
    const profile = fields.find((f) => f.prop === 'profile' && f.hints.discover === 'profile' && f.perNode)
    if (profile) {
      const bad = await checkProfiles(perNode)
      if (bad.length) {
        showIssues(bad)
        return false
      }
    }
    try {
      const r = await api.validate(o.type, perNode)
      showIssues(r.diagnostics ?? [])
      return r.ok
    } catch (e) {
      if (e instanceof ApiError && e.status === 400 && e.issues.length) {
        showIssues(e.issues)
        return false
      }
      general.textContent = tr('ui.wz.checkFailed', { message: (e as Error).message })
      return false
    }
  }

  /** Answers of the profile check by node and (profile, region), kept briefly: the form is checked as it is edited. */
  const profileChecks = new Map<string, { at: number; r: Promise<AwsCheckResult> }>()
  async function checkProfiles(perNode: Record<string, Record<string, unknown>>): Promise<Diagnostic[]> {
    const bad: Diagnostic[] = []
    await Promise.all(
      o.nodes.map(async (node) => {
        const a = perNode[node] ?? {}
        const over = {
          ...(typeof a.profile === 'string' && a.profile ? { profile: a.profile } : {}),
          ...(typeof a.region === 'string' && a.region ? { region: a.region } : {}),
        }
        const k = `${node}|${over.profile ?? ''}|${over.region ?? ''}`
        let c = profileChecks.get(k)
        if (!c || Date.now() - c.at > 15_000) profileChecks.set(k, (c = { at: Date.now(), r: api.checkAws(node, undefined, over) }))
        const note = notes.get(key('profile', node))
        const t0 = Date.now()
        const tick = () => note && (note.textContent = tr('ui.aws.checking', { s: ((Date.now() - t0) / 1000).toFixed(1) }))
        tick()
        const timer = setInterval(tick, 100)
        try {
          const r = await c.r
          if (note) note.textContent = r.ok ? `✔ ${checkText(r)}` : ''
          if (!r.ok) bad.push({ field: `/perNode/${node}/profile`, message: checkText(r) })
        } catch (e) {
          profileChecks.delete(k)
          if (note) note.textContent = ''
          bad.push({ field: `/perNode/${node}/profile`, message: (e as Error).message })
        } finally {
          clearInterval(timer)
        }
      }),
    )
    return bad
  }

  async function discoverOne(f: Field, node?: string, fill = false): Promise<void> {
    const list = lists.get(key(f.prop, node))!
    const note = notes.get(key(f.prop, node))!
    note.textContent = tr('ui.wz.asking')
    const partial: Record<string, unknown> = {}
    for (const x of fields) {
      if (x.kind === 'schema') continue
      const r = read(x, x.perNode ? (node ?? o.nodes[0]) : undefined)
      if (r.value !== undefined && x.prop !== f.prop) partial[x.prop] = r.value
    }
    try {
      const r = await api.discover(o.type, { field: f.hints.discover!, ...(node ? { node } : {}), attrs: partial })
      const known = o.choices?.(f.hints.discover!, node) ?? []
      const opts = [...known, ...(r.options ?? []).filter((x) => !known.some((k) => k.value === x.value))]
      replace(
        list,
        opts.map((x) => h('option', { value: x.value, label: x.label ?? x.value })),
      )
      const input = inputs.get(key(f.prop, node))
      if (fill && input && opts[0]) {
        input.value = opts[0].value
        input.dispatchEvent(new Event('input', { bubbles: true }))
      }
      note.textContent =
        r.answer && r.answer !== 'ok'
          ? `${tr('ui.wz.answered', { answer: r.answer })}${r.message ? `: ${r.message}` : ''}`
          : tr('ui.wz.found', { n: opts.length })
      note.dataset.count = String(opts.length)
    } catch (e) {
      note.textContent = tr('ui.wz.couldNotAsk', { message: (e as Error).message })
    }
  }

  async function refreshDiscover(): Promise<void> {
    await Promise.all([
      ...fields
        .filter((f) => f.kind === 'discover' && !GENERATED.has(f.hints.discover ?? ''))
        .flatMap((f) => (f.perNode ? o.nodes : [undefined]).map((n) => discoverOne(f, n))),
      loadSchemas(),
    ])
  }

  let schemaTimer: ReturnType<typeof setTimeout> | undefined
  function scheduleSchemas(): void {
    clearTimeout(schemaTimer)
    schemaTimer = setTimeout(() => void loadSchemas(), 400)
  }

  /** Asks the plugin for each schemaFrom field's schema from the other fields' values (again only when they changed). */
  async function loadSchemas(): Promise<void> {
    await Promise.all(
      fields
        .filter((f) => f.kind === 'schema')
        .map(async (f) => {
          const host = subHosts.get(f.prop)!
          const input = inputs.get(key(f.prop))!
          const partial: Record<string, unknown> = {}
          for (const x of fields) {
            if (x.kind === 'schema') continue
            const r = read(x, x.perNode ? o.nodes[0] : undefined)
            if (r.value !== undefined) partial[x.prop] = r.value
          }
          const asked = JSON.stringify(partial)
          if (subs.get(f.prop)?.asked === asked || asking.get(f.prop) === asked) return
          asking.set(f.prop, asked)
          const note = h('span', { class: 'wz-note muted', id: `${fid(f.prop)}-note` }, tr('ui.wz.asking'))
          if (!subs.has(f.prop)) replace(host, note)
          try {
            const r = await api.discover(o.type, { field: f.hints.schemaFrom!, attrs: partial })
            if (asking.get(f.prop) !== asked) return // a newer question is on its way
            const schema = r.schema
            if (!schema || typeof schema.properties !== 'object') {
              subs.delete(f.prop)
              input.hidden = false
              note.textContent =
                r.answer && r.answer !== 'ok'
                  ? `${tr('ui.wz.answered', { answer: r.answer })}${r.message ? `: ${r.message}` : ''}`
                  : (r.message ?? '')
              replace(host, note)
              return
            }
            const initial = o.initial && {
              attrs: (o.initial.attrs[f.prop] ?? {}) as Record<string, unknown>,
              nodeAttrs: Object.fromEntries(o.nodes.map((n) => [n, (o.initial!.nodeAttrs[n]?.[f.prop] ?? {}) as Record<string, unknown>])),
            }
            const form = schemaForm({
              type: o.type,
              schema,
              nodes: o.nodes,
              idPrefix: `${o.idPrefix ?? ''}${f.prop}.`,
              ...(initial ? { initial } : {}),
              ...(o.onEdit ? { onEdit: o.onEdit } : {}),
            })
            subs.set(f.prop, { form, asked })
            input.hidden = true
            replace(
              host,
              h(
                'div',
                { class: 'wz-sub-head' },
                typeof schema.title === 'string' && h('strong', null, schema.title),
                typeof schema.description === 'string' && h('div', { class: 'wz-desc muted' }, schema.description),
              ),
              form.el,
            )
            void form.refreshDiscover()
          } catch (e) {
            if (asking.get(f.prop) === asked) {
              note.textContent = tr('ui.wz.couldNotAsk', { message: (e as Error).message })
              if (!subs.has(f.prop)) replace(host, note)
            }
          } finally {
            if (asking.get(f.prop) === asked) asking.delete(f.prop)
          }
        }),
    )
  }

  return { el, values, showIssues, clearIssues, validateRemote, refreshDiscover }
}

/** Discover fields whose answer is made up, not found: a Generate button fills the field (address's virtualMac). */
const GENERATED = new Set(['virtualMac'])

/** The manual's suggested name from what the form holds (3.2.2): the adapter for a NIC, the IP for an
 *  address (`IP_10.0.0.5`: a name starts with a letter) and for the AWS types (`AWS_OIP_10.0.0.5`); null when
 *  the form has nothing to name it by yet. `value(prop)`: the field's value (a per-node field: the first node's). */
export function manualName(
  type: string,
  value: (prop: string) => string,
  taken: Iterable<string>,
  /** The label of the choice a field holds (an Elastic IP's allocation id is listed as "<public ip> — …"). */
  label: (prop: string) => string = () => '',
): string | null {
  const ip = (v: string) => v.trim().replace(/\/\d+$/, '')
  const publicIp = /^\d{1,3}(\.\d{1,3}){3}$/.exec(label('allocationId').split(' — ')[0]!.trim())?.[0] ?? ''
  const raw =
    type === 'nic'
      ? value('device').trim()
      : type === 'address'
        ? ip(value('address')) && `IP_${ip(value('address'))}`
        : type === 'aws-oip' || type === 'aws-sip'
          ? ip(value('ip')) && `AWS_${type === 'aws-oip' ? 'OIP' : 'SIP'}_${ip(value('ip'))}`
          : type === 'aws-eip'
            ? publicIp && `AWS_EIP_${publicIp}`
            : ''
  if (!raw) return null
  let base = raw.replace(/:/g, '-').replace(/[^A-Za-z0-9_.-]/g, '')
  if (!/^[A-Za-z]/.test(base)) base = `${type.toUpperCase().replace(/-/g, '_')}_${base}`
  base = base.slice(0, 60)
  const used = new Set(taken)
  if (!used.has(base)) return base
  for (let i = 2; ; i++) if (!used.has(`${base}_${i}`)) return `${base}_${i}`
}

/** A free resource name from the type: `process1`, `process2`… (a valid MCCS name). */
export function suggestName(type: string, taken: Iterable<string>): string {
  const used = new Set(taken)
  const base = type.replace(/[^A-Za-z0-9_.-]/g, '').replace(/^[^A-Za-z]+/, '') || 'resource'
  for (let i = 1; ; i++) if (!used.has(`${base}${i}`)) return `${base}${i}`
}
