// The group's dependency graph as SVG: a parent depends on its child, so children sit below their
// parents (they come online first). Each box shows the resource's state on the group's active node
// with colour, icon and word; a click selects the resource.
import { s, h } from './dom.js'
import { groupSummary } from './states.js'

export interface GraphResource { name: string; type: string; nodes: Record<string, { state: string }> }
const ICON: Record<string, string> = { online: '●', offline: '○', faulted: '✖', onlining: '▲', offlining: '▼', unknown: '?', partial: '◑' }

export function dependencyGraph(resources: GraphResource[], deps: Array<{ parent: string; child: string }>, activeNode: string | null,
  onPick: (resource: string) => void): Element {
  const names = new Set(resources.map((r) => r.name))
  const edges = deps.filter((d) => names.has(d.parent) && names.has(d.child))
  if (!resources.length) return h('p', { class: 'muted' }, 'This group has no resources yet (Edit → Add resource).')
  const level = new Map<string, number>()
  const levelOf = (n: string, seen: Set<string> = new Set()): number => {
    if (level.has(n)) return level.get(n)!
    if (seen.has(n)) return 0 // a cycle cannot be saved; guard anyway
    seen.add(n)
    const kids = edges.filter((e) => e.parent === n).map((e) => levelOf(e.child, seen))
    const l = kids.length ? 1 + Math.max(...kids) : 0
    level.set(n, l)
    return l
  }
  for (const r of resources) levelOf(r.name)
  const maxLevel = Math.max(...level.values())
  const rows: string[][] = Array.from({ length: maxLevel + 1 }, () => [])
  for (const r of [...resources].sort((a, b) => a.name.localeCompare(b.name))) rows[maxLevel - level.get(r.name)!]!.push(r.name)
  const W = 168, H = 50, GX = 36, GY = 46, PAD = 16
  const widest = Math.max(...rows.map((r) => r.length))
  const width = PAD * 2 + widest * W + (widest - 1) * GX
  const height = PAD * 2 + rows.length * H + (rows.length - 1) * GY
  const pos = new Map<string, { x: number; y: number }>()
  rows.forEach((row, ri) => {
    const rowW = row.length * W + (row.length - 1) * GX
    row.forEach((n, i) => pos.set(n, { x: (width - rowW) / 2 + i * (W + GX), y: PAD + ri * (H + GY) }))
  })
  const svg = s('svg', { class: 'dep-graph', viewBox: `0 0 ${width} ${height}`, width, height, role: 'img', 'aria-label': `Dependency graph: ${edges.map((e) => `${e.parent} depends on ${e.child}`).join(', ') || 'no dependencies'}` },
    s('defs', null, s('marker', { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 8, markerHeight: 8, orient: 'auto-start-reverse' },
      s('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: 'dep-arrow' }))))
  for (const e of edges) {
    const a = pos.get(e.parent)!, b = pos.get(e.child)!
    const x1 = a.x + W / 2, y1 = a.y + H, x2 = b.x + W / 2, y2 = b.y
    const my = (y1 + y2) / 2
    svg.append(s('path', { class: 'dep-edge', d: `M ${x1} ${y1} C ${x1} ${my}, ${x2} ${my}, ${x2} ${y2 - 2}`, 'marker-end': 'url(#arrow)', 'data-edge': `${e.parent}->${e.child}` },
      s('title', null, `${e.parent} depends on ${e.child}`)))
  }
  for (const r of resources) {
    const p = pos.get(r.name)!
    const st = activeNode && r.nodes[activeNode] ? r.nodes[activeNode]!.state : groupSummary(Object.fromEntries(Object.entries(r.nodes).map(([n, x]) => [n, x.state]))).state
    const label = `${ICON[st] ?? '•'} ${st}${activeNode ? ` on ${activeNode}` : ''}`
    const g = s('g', { class: `dep-node gst-${st}`, transform: `translate(${p.x},${p.y})`, tabindex: 0, role: 'button', 'data-resource': r.name, 'data-state': st, 'aria-label': `${r.name}, ${r.type}, ${st}` },
      s('rect', { width: W, height: H, rx: 7 }),
      s('text', { x: 10, y: 20, class: 'dep-name' }, r.name.length > 20 ? `${r.name.slice(0, 19)}…` : r.name),
      s('text', { x: 10, y: 38, class: 'dep-sub' }, `${r.type} · ${label}`.slice(0, 30)),
      s('title', null, `${r.name} (${r.type}): ${label}`))
    g.addEventListener('click', () => onPick(r.name))
    g.addEventListener('keydown', (e) => { if ((e as KeyboardEvent).key === 'Enter' || (e as KeyboardEvent).key === ' ') { e.preventDefault(); onPick(r.name) } })
    svg.append(g)
  }
  return h('div', { class: 'graph-wrap' }, svg)
}
