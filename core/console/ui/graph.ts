// The group's dependency graph as SVG: a parent depends on its child, so children sit below their
// parents (they come online first). Each box shows the resource's state on the group's active node
// with colour, icon and word; a click selects the resource.
import { s, h } from './dom.js'
import { groupSummary } from './states.js'
import { tr } from './i18n.js'

export interface GraphResource {
  name: string
  type: string
  nodes: Record<string, { state: string }>
}
const TEXT_X = 10
// The label fonts (console.css .dep-name / .dep-sub): the boxes are sized by measuring them.
const NAME_FONT = '700 14px'
const SUB_FONT = '400 12px'

/** Text width in px in the page's font family, by a canvas (no layout needed). */
function textMeasurer(): (text: string, font: string) => number {
  const ctx = document.createElement('canvas').getContext('2d')
  const family = getComputedStyle(document.documentElement).fontFamily || 'sans-serif'
  // Without a canvas (never in a browser): a generous guess per character.
  if (!ctx) return (t, f) => t.length * (f.startsWith('700') ? 9 : 7.5)
  return (t, f) => {
    ctx.font = `${f} ${family}`
    return ctx.measureText(t).width * 1.04
  }
}

const ICON: Record<string, string> = { online: '●', offline: '○', faulted: '✖', onlining: '▲', offlining: '▼', unknown: '?', partial: '◑' }

export function dependencyGraph(
  resources: GraphResource[],
  deps: Array<{ parent: string; child: string }>,
  activeNode: string | null,
  onPick: (resource: string) => void,
): Element {
  const names = new Set(resources.map((r) => r.name))
  const edges = deps.filter((d) => names.has(d.parent) && names.has(d.child))
  if (!resources.length) return h('p', { class: 'muted' }, tr('ui.graph.empty'))
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
  // Each row after the first in the order of its parents' places (fewer crossings), ties by name.
  const place = new Map<string, number>()
  rows.forEach((row, ri) => {
    if (ri > 0) {
      const bary = (n: string) => {
        const ps = edges.filter((e) => e.child === n && place.has(e.parent)).map((e) => place.get(e.parent)!)
        return ps.length ? ps.reduce((a, b) => a + b, 0) / ps.length : Infinity
      }
      row.sort((a, b) => bary(a) - bary(b) || a.localeCompare(b))
    }
    row.forEach((n, i) => place.set(n, i - (row.length - 1) / 2))
  })
  const stateOf = (r: GraphResource) =>
    activeNode && r.nodes[activeNode]
      ? r.nodes[activeNode]!.state
      : groupSummary(Object.fromEntries(Object.entries(r.nodes).map(([n, x]) => [n, x.state]))).state
  const labels = new Map(
    resources.map((r) => {
      const st = stateOf(r)
      return [r.name, { st, name: r.name, sub: `${r.type} · ${ICON[st] ?? '•'} ${st}${activeNode ? ` on ${activeNode}` : ''}` }]
    }),
  )
  // Boxes as wide as their longest label in the console's own font (measured), so nothing overflows.
  const measure = textMeasurer()
  const TEXT_W = Math.max(...[...labels.values()].map((l) => Math.max(measure(l.name, NAME_FONT), measure(l.sub, SUB_FONT))))
  const W = Math.max(150, Math.ceil(TEXT_W) + 2 * TEXT_X),
    H = 50,
    GX = 40,
    GY = 48,
    PAD = 16,
    LANE = 10
  const widest = Math.max(...rows.map((r) => r.length))
  let width = PAD * 2 + widest * W + (widest - 1) * GX
  const height = PAD * 2 + rows.length * H + (rows.length - 1) * GY
  const pos = new Map<string, { x: number; y: number; row: number }>()
  const rowY = (ri: number) => PAD + ri * (H + GY)
  rows.forEach((row, ri) => {
    const rowW = row.length * W + (row.length - 1) * GX
    row.forEach((n, i) => pos.set(n, { x: (width - rowW) / 2 + i * (W + GX), y: rowY(ri), row: ri }))
  })
  // An edge that skips rows runs down a free lane (a gap between boxes, or beside them) through the rows
  // it skips, never under a box it does not connect; lanes already taken are offset.
  const taken: number[] = []
  const free = (x: number, from: number, to: number) => {
    for (let ri = from; ri < to; ri++)
      for (const n of rows[ri]!) {
        const p = pos.get(n)!
        if (x > p.x - LANE && x < p.x + W + LANE) return false
      }
    return !taken.some((t) => Math.abs(t - x) < LANE - 2)
  }
  const paths: Array<{ e: { parent: string; child: string }; d: string }> = []
  let extra = 0
  for (const e of edges) {
    const a = pos.get(e.parent)!,
      b = pos.get(e.child)!
    const x1 = a.x + W / 2,
      y1 = a.y + H,
      x2 = b.x + W / 2,
      y2 = b.y
    if (b.row - a.row <= 1) {
      const my = (y1 + y2) / 2
      paths.push({ e, d: `M ${x1} ${y1} C ${x1} ${my}, ${x2} ${my}, ${x2} ${y2 - 2}` })
      continue
    }
    const base = [x1, x2]
    for (let ri = a.row + 1; ri < b.row; ri++) {
      const xs = rows[ri]!.map((n) => pos.get(n)!.x).sort((p, q) => p - q)
      xs.forEach((x, i) => {
        base.push(x - GX / 2)
        if (i === xs.length - 1) base.push(x + W + GX / 2)
      })
    }
    const candidates = base.flatMap((c) => [c, c - LANE, c + LANE, c - 2 * LANE, c + 2 * LANE])
    let lx = candidates
      .filter((x) => x > PAD / 2 && free(x, a.row + 1, b.row))
      .sort((p, q) => Math.abs(p - x1) + Math.abs(p - x2) - Math.abs(q - x1) - Math.abs(q - x2))[0]
    if (lx === undefined) {
      extra += LANE * 2
      lx = width + extra - LANE
    } // beside everything: the drawing widens
    taken.push(lx)
    const top = y1 + GY,
      bottom = y2 - GY
    paths.push({
      e,
      d: `M ${x1} ${y1} C ${x1} ${y1 + GY / 2}, ${lx} ${y1 + GY / 2}, ${lx} ${top} L ${lx} ${bottom} C ${lx} ${bottom + GY / 2}, ${x2} ${bottom + GY / 2}, ${x2} ${y2 - 2}`,
    })
  }
  width += extra
  const svg = s(
    'svg',
    {
      class: 'dep-graph',
      viewBox: `0 0 ${width} ${height}`,
      width,
      height,
      role: 'img',
      'aria-label': tr('ui.graph.aria', {
        edges: edges.map((e) => tr('ui.graph.edge', { parent: e.parent, child: e.child })).join(', ') || tr('ui.dd.noDeps'),
      }),
    },
    s(
      'defs',
      null,
      s(
        'marker',
        { id: 'arrow', viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 8, markerHeight: 8, orient: 'auto-start-reverse' },
        s('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: 'dep-arrow' }),
      ),
    ),
  )
  for (const { e, d } of paths) {
    svg.append(
      s(
        'path',
        { class: 'dep-edge', d, 'marker-end': 'url(#arrow)', 'data-edge': `${e.parent}->${e.child}` },
        s('title', null, tr('ui.graph.edge', { parent: e.parent, child: e.child })),
      ),
    )
  }
  for (const r of resources) {
    const p = pos.get(r.name)!
    const l = labels.get(r.name)!
    const g = s(
      'g',
      {
        class: `dep-node gst-${l.st}`,
        transform: `translate(${p.x},${p.y})`,
        tabindex: 0,
        role: 'button',
        'data-resource': r.name,
        'data-state': l.st,
        'aria-label': `${r.name}, ${r.type}, ${l.st}`,
      },
      s('rect', { width: W, height: H, rx: 7 }),
      s('text', { x: TEXT_X, y: 20, class: 'dep-name' }, l.name),
      s('text', { x: TEXT_X, y: 38, class: 'dep-sub' }, l.sub),
      s('title', null, `${r.name} (${r.type}): ${l.sub}`),
    )
    g.addEventListener('click', () => onPick(r.name))
    g.addEventListener('keydown', (e) => {
      if ((e as KeyboardEvent).key === 'Enter' || (e as KeyboardEvent).key === ' ') {
        e.preventDefault()
        onPick(r.name)
      }
    })
    svg.append(g)
  }
  return h('div', { class: 'graph-wrap' }, svg)
}
