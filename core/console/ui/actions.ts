// Every console command in one table: the menu bar and the toolbar are two views of it. A command is
// enabled or disabled by the selection and its live state (manual 5.3.2), with the reason shown; each
// runs one REST call (or opens the dialog that makes it). A function this agent does not offer
// answers with a message saying so — never silently nothing.
import { h } from './dom.js'
import { api, ApiError, type ActionReply } from './api.js'
import { state, select, groupOf, groupStatus, resourceStatus, groupNodes, groupConfig, loadConfig } from './store.js'
import { dialog, button, message, confirm, notify } from './dialogs.js'
import { groupView, isUp, stateWord } from './states.js'
import { addResourceWizard } from './add-resource.js'
import { showConfigWarnings } from './config-warnings.js'
import { oplogDialog, supportDialog, preferencesDialog, aboutDialog, heartbeatDialog, addGroupDialog, passwordDialog } from './panels.js'
import { helpDialog } from './help.js'
import { awsSettingsDialog } from './aws-settings.js'
import { usersDialog, logoutEverywhere } from './users.js'
import { disconnectEvents } from './events.js'
import { tr, trSaid } from './i18n.js'

export type Menu = 'file' | 'edit' | 'action' | 'window' | 'help'
export interface Command {
  id: string
  label: string | (() => string)
  menu: Menu
  /** Toolbar icon; commands without one are menu-only. */
  icon?: string
  separatorBefore?: boolean
  /** true, or why not. */
  enabled(): true | string
  run(): Promise<void> | void
}

const NEED_GROUP = (): string => tr('ui.why.needGroup')
/** Whether every node of its group monitors the resource now (the status, not the configuration). */
const monitoredEverywhere = (r: string): boolean => Object.values(resourceStatus(r)?.nodes ?? {}).every((n) => n.monitored)
const selectedGroup = (): string | undefined => {
  const s = state.selection
  return s.kind === 'group' ? s.name : s.kind === 'resource' ? groupOf(s.name) : undefined
}
const selectedResource = (): string | undefined => (state.selection.kind === 'resource' ? state.selection.name : undefined)
const onGroupOrResource = (): true | string => (selectedGroup() || selectedResource() ? true : tr('ui.why.needGroupOrResource'))

/** An operation's answer: refused ones say why; accepted ones show up live in the tree. */
export async function report(what: string, p: Promise<ActionReply | unknown>): Promise<boolean> {
  try {
    const r = (await p) as ActionReply | undefined
    if (r && typeof r === 'object' && 'accepted' in r && r.accepted === false) {
      const o = typeof r.outcome === 'object' ? r.outcome : undefined
      // The engine's reason in the console's language when it came with its words (else its English message).
      const why = o?.said && o.reason ? `${trSaid(o.said, o.reason)} (${o.code ?? ''})` : r.message
      notify(`${tr('ui.report.refused', { what })}${why ? ` — ${why}` : r.outcome ? ` (${String(r.outcome)})` : ''}`, 'error')
      return false
    }
    notify(`${what}: ${r && typeof r === 'object' && 'message' in r && r.message ? r.message : tr('ui.report.accepted')}`, 'ok')
    showConfigWarnings(what, r) // a configuration change's answer (delete, unlink, edit) carries its warnings
    return true
  } catch (e) {
    showError(what, e)
    return false
  }
}

export function showError(what: string, e: unknown): void {
  const ae = e instanceof ApiError ? e : null
  if (ae && (ae.status === 404 || ae.status === 501) && !ae.code.startsWith('MCCS_ERR_NOT_FOUND')) {
    void message(
      tr('ui.report.notAvailable', { what }),
      tr('ui.report.notOffered', { message: ae.message }),
      h('p', { class: 'muted' }, `(${ae.code})`),
    )
    return
  }
  notify(`${what}: ${ae ? `${ae.message}${ae.field ? ` [${ae.field}]` : ''} (${ae.code})` : (e as Error).message}`, 'error')
}

function groupVerb(verb: string, what: string, body: Record<string, unknown> = {}): Promise<boolean> {
  const g = selectedGroup()!
  return report(`${what} '${g}'`, api.groupAction(g, verb, body))
}

/** Asks for a node (online on / switch to); resolves null when cancelled. */
function pickNode(title: string, nodes: string[], text: string, o: { confirm?: boolean } = {}): Promise<string | null> {
  if (!nodes.length) {
    notify(tr('ui.pick.none', { title }), 'error')
    return Promise.resolve(null)
  }
  if (nodes.length === 1 && !o.confirm) return Promise.resolve(nodes[0]!)
  const d = dialog(title)
  const sel = h(
    'select',
    { id: 'pick-node' },
    nodes.map((n) => h('option', { value: n }, n)),
  )
  let chosen: string | null = null
  d.body.append(h('label', { for: 'pick-node' }, text), sel)
  d.footer.append(
    button(tr('ui.btn.cancel'), () => d.close()),
    button(
      tr('ui.btn.ok'),
      () => {
        chosen = sel.value
        d.close()
      },
      { primary: true, id: 'pick-node-ok' },
    ),
  )
  return d.closed.then(() => chosen)
}

/** The group's truthful state (states.ts): where it runs, faults left elsewhere, a lost node's part unknown. */
const groupState = (g: string) => {
  const gs = groupStatus(g)
  return gs && state.status
    ? groupView(state.status, gs)
    : { state: 'unknown', text: 'unknown', node: null, faults: [], fencing: [], perNode: {} }
}
const anyFault = (g: string) =>
  groupState(g).faults.length > 0 ||
  (groupStatus(g)?.resources ?? []).some((r) => Object.values(r.nodes).some((n) => n.state === 'faulted' || n.fault))

export const COMMANDS: Command[] = [
  // File
  {
    id: 'logout',
    label: () => tr('ui.cmd.logout'),
    menu: 'file',
    enabled: () => true,
    run: async () => {
      // The stream is closed first: its sessionEnded (logout) would draw a login page the reload then wipes,
      // and a login typed into that page in the meantime would be lost (ui-login failed once this way).
      disconnectEvents()
      await api.logout().catch(() => {})
      location.reload()
    },
  },
  { id: 'support', label: () => tr('ui.cmd.support'), menu: 'file', enabled: () => true, run: () => supportDialog() },
  { id: 'password', label: () => tr('ui.cmd.password'), menu: 'file', enabled: () => true, run: () => passwordDialog() },
  {
    id: 'users',
    label: () => tr('ui.cmd.users'),
    menu: 'file',
    enabled: () => (state.session?.admin ? true : tr('ui.why.needAdmin')),
    run: () => usersDialog(),
  },
  {
    id: 'logout-everywhere',
    label: () => tr('ui.cmd.logout-everywhere'),
    menu: 'file',
    enabled: () => true,
    run: () => logoutEverywhere(),
  },
  // Edit
  { id: 'add-group', label: () => tr('ui.cmd.add-group'), menu: 'edit', icon: '⊞', enabled: () => true, run: () => addGroupDialog() },
  {
    id: 'delete-group',
    label: () => tr('ui.cmd.delete-group'),
    menu: 'edit',
    enabled: () => (state.selection.kind === 'group' ? true : NEED_GROUP()),
    // The fix is offered, not described: one confirmation says what goes (its resources) and, for a group
    // that runs, that it is taken offline first; then it is done (the API's force, offline with wait).
    run: async () => {
      const g = selectedGroup()!
      const members = (state.config?.main.resources ?? []).filter((r) => r.group === g).map((r) => r.name)
      const v = groupState(g)
      const running = isUp(v.state)
      const list = members.join(', ')
      const text = running
        ? tr('ui.delgroup.offlineAndDelete', { group: g, state: stateWord(v.text), resources: list || '—' })
        : members.length
          ? tr('ui.delgroup.withResources', { group: g, resources: list })
          : tr('ui.delgroup.empty', { group: g })
      const label = running ? tr('ui.btn.offlineAndDelete') : members.length ? tr('ui.btn.deleteWithResources') : tr('ui.btn.delete')
      if (!(await confirm(tr('ui.cmd.delete-group'), text, label))) return
      if (running && !(await report(`${tr('ui.what.offline')} '${g}'`, api.groupAction(g, 'offline', { wait: true })))) return
      if (await report(tr('ui.what.deleteGroup', { name: g }), api.deleteGroup(g, members.length > 0))) select({ kind: 'cluster' })
    },
  },
  {
    id: 'add-resource',
    label: () => tr('ui.cmd.add-resource'),
    menu: 'edit',
    icon: '⊕',
    separatorBefore: true,
    enabled: () => (state.status?.groups.length ? true : tr('ui.why.addGroupFirst')),
    run: () => addResourceWizard(selectedGroup()),
  },
  {
    id: 'delete-resource',
    label: () => tr('ui.cmd.delete-resource'),
    menu: 'edit',
    enabled: () => (selectedResource() ? true : tr('ui.why.needResource')),
    run: async () => {
      const r = selectedResource()!
      const running = Object.values(resourceStatus(r)?.nodes ?? {}).some((n) => n.state !== 'offline')
      const text = running ? tr('ui.delres.offlineAndDelete', { name: r }) : tr('ui.delres.confirm', { name: r })
      const label = running ? tr('ui.btn.offlineAndDelete') : tr('ui.btn.delete')
      if (!(await confirm(tr('ui.cmd.delete-resource'), text, label))) return
      if (running && !(await report(`${tr('ui.what.offline')} '${r}'`, api.resourceAction(r, 'offline', { wait: true })))) return
      const g = groupOf(r)
      // The confirmation named its dependency links: they go with it (force).
      if (await report(tr('ui.what.deleteResource', { name: r }), api.deleteResource(r, true)))
        select(g ? { kind: 'group', name: g } : { kind: 'cluster' })
    },
  },
  {
    id: 'activate',
    menu: 'edit',
    // Offered as activation while any node of the group does not monitor the resource: the engine's state
    // (what an operator's deactivation changed), not the configuration's starting value.
    label: () => {
      const r = selectedResource()
      return r && !monitoredEverywhere(r) ? tr('ui.cmd.activate.on') : tr('ui.cmd.activate.off')
    },
    enabled: () => (selectedResource() ? true : tr('ui.why.needResource')),
    run: () => {
      const r = selectedResource()!
      const on = !monitoredEverywhere(r)
      return void report(
        tr(on ? 'ui.what.activate' : 'ui.what.deactivate', { name: r }),
        api.resourceAction(r, on ? 'activate' : 'deactivate', {}),
      ).then(() => loadConfig().catch(() => {}))
    },
  },
  {
    id: 'monitor-all',
    label: () => tr('ui.cmd.monitor-all'),
    menu: 'edit',
    icon: '⟳',
    enabled: () => true,
    run: () => void report(tr('ui.what.monitorAll'), api.monitorAll()),
  },
  {
    id: 'failover-on-failure',
    label: () => tr('ui.cmd.failover-on-failure'),
    menu: 'edit',
    separatorBefore: true,
    enabled: () => (selectedGroup() ? true : NEED_GROUP()),
    run: async () => {
      const g = selectedGroup()!
      const d = dialog(tr('ui.fof.title', { group: g }))
      const cb = h('input', {
        type: 'checkbox',
        id: 'fof',
        checked: groupConfig(g)?.failoverOnFailure ?? groupStatus(g)?.failoverOnFailure ?? true,
      })
      d.body.append(h('label', { class: 'check' }, cb, ` ${tr('ui.fof.check')}`))
      d.footer.append(
        button(tr('ui.btn.cancel'), () => d.close()),
        button(
          tr('ui.btn.save'),
          async () => {
            if (
              await report(
                tr('ui.what.fof', { name: g, value: tr(cb.checked ? 'ui.gl.yes' : 'ui.gl.no') }),
                api.editGroup(g, { failoverOnFailure: cb.checked }),
              )
            )
              d.close()
          },
          { primary: true, id: 'fof-save' },
        ),
      )
    },
  },
  { id: 'heartbeat', label: () => tr('ui.cmd.heartbeat'), menu: 'edit', enabled: () => true, run: () => heartbeatDialog() },
  { id: 'aws-settings', label: () => tr('ui.cmd.aws-settings'), menu: 'edit', enabled: () => true, run: () => awsSettingsDialog() },
  // Rename node is in the node's own menu and detail (node-work.ts: enabled once the node is stopped).
  // Action
  {
    id: 'online',
    label: () => tr('ui.cmd.online'),
    menu: 'action',
    icon: '▶',
    enabled: () => {
      const r = selectedResource()
      if (r)
        return Object.values(resourceStatus(r)?.nodes ?? {}).some((n) => isUp(n.state)) ? tr('ui.why.alreadyOnline', { name: r }) : true
      const g = selectedGroup()
      if (!g) return tr('ui.why.needGroupOrResource')
      const v = groupState(g)
      if (v.state === 'unknown')
        return v.fencing.length
          ? tr('ui.why.unknownFencing', { nodes: v.fencing.join(', ') })
          : tr('ui.why.unknownLost', { node: v.node ?? tr('ui.why.itsNode') })
      return v.state === 'offline' || v.state === 'partial' || (v.state === 'faulted' && v.faults.length < groupNodes(g).length)
        ? true
        : tr('ui.why.groupIs', { state: stateWord(v.text) })
    },
    run: async () => {
      const r = selectedResource()
      if (r) return void report(`${tr('ui.what.online')} '${r}'`, api.resourceAction(r, 'online', {}))
      const g = selectedGroup()!
      const node = await pickNode(tr('ui.online.title', { group: g }), groupNodes(g), tr('ui.online.on', { group: g }))
      if (node) await groupVerb('online', tr('ui.what.online'), { node })
    },
  },
  {
    id: 'offline',
    label: () => tr('ui.cmd.offline'),
    menu: 'action',
    icon: '■',
    enabled: () => {
      const r = selectedResource()
      if (r)
        return Object.values(resourceStatus(r)?.nodes ?? {}).some((n) => n.state !== 'offline') ? true : tr('ui.why.isOffline', { name: r })
      const g = selectedGroup()
      if (!g) return tr('ui.why.needGroupOrResource')
      return groupState(g).state === 'offline' ? tr('ui.why.groupOffline') : true
    },
    run: async () => {
      const r = selectedResource()
      if (r) return void report(`${tr('ui.what.offline')} '${r}'`, api.resourceAction(r, 'offline', {}))
      const g = selectedGroup()!
      if (await confirm(tr('ui.cmd.offline'), tr('ui.offline.confirm', { group: g }), tr('ui.cmd.offline')))
        await groupVerb('offline', tr('ui.what.offline'))
    },
  },
  {
    id: 'switch',
    label: () => tr('ui.cmd.switch'),
    menu: 'action',
    icon: '⇄',
    enabled: () => {
      const g = selectedGroup()
      if (!g) return NEED_GROUP()
      if (groupNodes(g).length < 2) return tr('ui.why.oneNode')
      const v = groupState(g)
      if (v.state === 'unknown') return tr('ui.why.unknownLost', { node: v.node ?? tr('ui.why.itsNode') })
      return isUp(v.state) ? true : tr('ui.why.notOnline')
    },
    run: async () => {
      const g = selectedGroup()!
      const from = groupState(g).node
      const node = await pickNode(
        tr('ui.switch.title', { group: g }),
        groupNodes(g).filter((n) => n !== from),
        tr('ui.switch.to', { group: g, from: from ?? '?' }),
        { confirm: true },
      )
      if (node) await groupVerb('switch', tr('ui.what.switchTo', { node }), { node })
    },
  },
  {
    id: 'lock',
    label: () => tr('ui.cmd.lock'),
    menu: 'action',
    icon: '⊠',
    separatorBefore: true,
    enabled: () => {
      const g = selectedGroup()
      return !g ? NEED_GROUP() : groupStatus(g)?.lock === 'none' ? true : tr('ui.why.alreadyLocked')
    },
    run: async () => {
      const g = selectedGroup()!
      const d = dialog(tr('ui.lock.title', { group: g }))
      const temp = h('input', { type: 'radio', name: 'lock-kind', id: 'lock-temp', value: 'temporary', checked: true })
      const pers = h('input', { type: 'radio', name: 'lock-kind', id: 'lock-pers', value: 'persistent' })
      d.body.append(
        h('p', null, tr('ui.lock.what')),
        h('label', { class: 'check' }, temp, ` ${tr('ui.lock.temporary')}`),
        h('label', { class: 'check' }, pers, ` ${tr('ui.lock.persistent')}`),
      )
      d.footer.append(
        button(tr('ui.btn.cancel'), () => d.close()),
        button(
          tr('ui.btn.lock'),
          () => {
            d.close()
            void groupVerb('lock', tr('ui.what.lock'), { persistent: pers.checked })
          },
          { primary: true, id: 'lock-ok' },
        ),
      )
    },
  },
  {
    id: 'unlock',
    label: () => tr('ui.cmd.unlock'),
    menu: 'action',
    icon: '⊡',
    enabled: () => {
      const g = selectedGroup()
      return !g ? NEED_GROUP() : groupStatus(g)?.lock !== 'none' ? true : tr('ui.why.notLocked')
    },
    run: () => void groupVerb('unlock', tr('ui.what.unlock')),
  },
  {
    id: 'clear',
    label: () => tr('ui.cmd.clear'),
    menu: 'action',
    icon: '✚',
    enabled: () => {
      const g = selectedGroup()
      return !g ? NEED_GROUP() : anyFault(g) ? true : tr('ui.why.noFault')
    },
    run: () => void groupVerb('clear', tr('ui.what.removeFault')),
  },
  {
    id: 'flush',
    label: () => tr('ui.cmd.flush'),
    menu: 'action',
    icon: '↺',
    enabled: () => (selectedGroup() ? true : NEED_GROUP()),
    run: async () => {
      const g = selectedGroup()!
      if (await confirm(tr('ui.cmd.flush'), tr('ui.flush.confirm', { group: g }), tr('ui.btn.initialize')))
        await groupVerb('flush', tr('ui.what.flush'))
    },
  },
  {
    id: 'probe',
    label: () => tr('ui.cmd.probe'),
    menu: 'action',
    icon: '⌕',
    enabled: onGroupOrResource,
    run: () => {
      const r = selectedResource()
      return r
        ? void report(`${tr('ui.what.detect')} '${r}'`, api.resourceAction(r, 'probe', {}))
        : void groupVerb('probe', tr('ui.what.probe'))
    },
  },
  {
    id: 'oplog',
    label: () => tr('ui.cmd.oplog'),
    menu: 'action',
    icon: '☰',
    separatorBefore: true,
    enabled: () => true,
    run: () => oplogDialog(),
  },
  // Window / Help
  { id: 'preferences', label: () => tr('ui.cmd.preferences'), menu: 'window', enabled: () => true, run: () => preferencesDialog() },
  { id: 'help', label: () => tr('ui.cmd.help'), menu: 'help', enabled: () => true, run: () => helpDialog() },
  { id: 'about', label: () => tr('ui.cmd.about'), menu: 'help', enabled: () => true, run: () => aboutDialog() },
]

// A stale view (the agent is not answering: events.ts) may show a state that is no longer true: every
// command that acts on the cluster waits until the view is live again. Reading and leaving stay possible.
const WHILE_STALE = new Set(['logout', 'logout-everywhere', 'users', 'support', 'password', 'oplog', 'preferences', 'help', 'about'])
for (const c of COMMANDS) {
  if (WHILE_STALE.has(c.id)) continue
  const inner = c.enabled.bind(c)
  c.enabled = () => (state.stale ? tr('ui.why.stale', { reason: state.stale }) : inner())
}

export const commandLabel = (c: Command): string => (typeof c.label === 'function' ? c.label() : c.label)
export const TOOLBAR = [
  'online',
  'offline',
  'switch',
  'lock',
  'unlock',
  'clear',
  'flush',
  'probe',
  '|',
  'add-group',
  'add-resource',
  'monitor-all',
  '|',
  'oplog',
]
