/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
// Tiny DOM helpers: the console is plain DOM, no framework. h() builds an element tree; children that
// are null/false are skipped so views can write `cond && h(...)`.

export type Child = Node | string | number | null | undefined | false | Child[]
type Attrs = Record<string, unknown>

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Attrs | null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag)
  setAttrs(el, attrs)
  append(el, children)
  return el
}

const SVG_NS = 'http://www.w3.org/2000/svg'
export function s(tag: string, attrs?: Attrs | null, ...children: Child[]): SVGElement {
  const el = document.createElementNS(SVG_NS, tag)
  setAttrs(el, attrs)
  append(el, children)
  return el
}

function setAttrs(el: Element, attrs: Attrs | null | undefined): void {
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2).toLowerCase(), v as EventListener)
    else if (k === 'class') el.setAttribute('class', Array.isArray(v) ? v.filter(Boolean).join(' ') : String(v))
    else if (k === 'value' && 'value' in el) (el as HTMLInputElement).value = String(v)
    else if (k === 'checked' && 'checked' in el) (el as HTMLInputElement).checked = Boolean(v)
    // Styles through the CSSOM, never a style="" attribute: the Content-Security-Policy (style-src 'self')
    // refuses inline style attributes, not properties set on element.style.
    else if (k === 'style' && typeof v === 'object')
      for (const [p, val] of Object.entries(v as Record<string, string>)) (el as HTMLElement).style.setProperty(p, val)
    else if (k === 'style') throw new Error("h(): give style as {property: value} (the console's CSP refuses style attributes)")
    else el.setAttribute(k, v === true ? '' : String(v))
  }
}

export function append(el: Node, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue
    if (Array.isArray(c)) append(el, c)
    else el.appendChild(typeof c === 'string' || typeof c === 'number' ? document.createTextNode(String(c)) : c)
  }
}

export function replace(el: Element, ...children: Child[]): void {
  el.replaceChildren()
  append(el, children)
}

/** Like replace(), but keeps what did not change. A view drawn again on every status event (up to 10 a
 *  second: link round-trip times change all the time) would otherwise swap a button between the press and
 *  the release of a click, and the click would be lost (ui-node-actions: a Standby or End maintenance click
 *  that never reached the agent). A child equal to its new version (tags, attributes, text) is kept; a
 *  plain container (no listeners of its own: div, table parts, lists) with the same attributes is kept and
 *  its children compared in turn; anything else — a button, an input, a link — is replaced whole, so its
 *  listeners are always the new render's. */
export function morph(el: Element, ...children: Child[]): void {
  const next = document.createDocumentFragment()
  append(next, children)
  morphChildren(el, [...next.childNodes])
}

const CONTAINERS = new Set([
  'DIV',
  'SECTION',
  'TABLE',
  'THEAD',
  'TBODY',
  'TR',
  'TD',
  'TH',
  'DL',
  'DT',
  'DD',
  'UL',
  'OL',
  'LI',
  'P',
  'H3',
  'SPAN',
])

function morphChildren(el: Element, fresh: ChildNode[]): void {
  const old = [...el.childNodes]
  if (old.length !== fresh.length) {
    el.replaceChildren(...fresh)
    return
  }
  fresh.forEach((n, i) => {
    const o = old[i]!
    if (o.isEqualNode(n)) return
    if (o instanceof Element && n instanceof Element && CONTAINERS.has(o.tagName) && sameAttributes(o, n)) {
      morphChildren(o, [...n.childNodes])
      return
    }
    el.replaceChild(n, o)
  })
}

function sameAttributes(a: Element, b: Element): boolean {
  if (a.tagName !== b.tagName || a.attributes.length !== b.attributes.length) return false
  for (const at of a.attributes) if (b.getAttribute(at.name) !== at.value) return false
  return true
}

export const $ = <T extends Element = HTMLElement>(sel: string, root: ParentNode = document): T | null => root.querySelector<T>(sel)
