// Dependency graph helpers (pure). Edges point parent -> child: "parent depends on child".

export interface Edge {
  parent: string
  child: string
}

/** Returns one cycle as a list of names (first == last), or null when the graph is a DAG. */
export function findCycle(nodes: Iterable<string>, edges: readonly Edge[]): string[] | null {
  const out = adjacency(nodes, edges)
  const colour = new Map<string, 0 | 1 | 2>()
  const stack: string[] = []
  const visit = (n: string): string[] | null => {
    colour.set(n, 1)
    stack.push(n)
    for (const m of out.get(n) ?? []) {
      const c = colour.get(m) ?? 0
      if (c === 1) return [...stack.slice(stack.indexOf(m)), m]
      if (c === 0) {
        const found = visit(m)
        if (found) return found
      }
    }
    stack.pop()
    colour.set(n, 2)
    return null
  }
  for (const n of out.keys()) {
    if ((colour.get(n) ?? 0) === 0) {
      const found = visit(n)
      if (found) return found
    }
  }
  return null
}

/** Children first (the online order). Throws on a cycle; callers validate with findCycle first. */
export function onlineOrder(nodes: Iterable<string>, edges: readonly Edge[]): string[] {
  const out = adjacency(nodes, edges)
  const done = new Set<string>()
  const order: string[] = []
  const visit = (n: string, path: Set<string>): void => {
    if (done.has(n)) return
    if (path.has(n)) throw new Error(`dependency cycle through ${n}`)
    path.add(n)
    for (const m of [...(out.get(n) ?? [])].sort()) visit(m, path)
    path.delete(n)
    done.add(n)
    order.push(n)
  }
  for (const n of [...out.keys()].sort()) visit(n, new Set())
  return order
}

function adjacency(nodes: Iterable<string>, edges: readonly Edge[]): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>()
  for (const n of nodes) out.set(n, new Set())
  for (const e of edges) {
    if (!out.has(e.parent)) out.set(e.parent, new Set())
    if (!out.has(e.child)) out.set(e.child, new Set())
    out.get(e.parent)!.add(e.child)
  }
  return out
}
