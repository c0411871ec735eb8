// A small, strict-enough XML reader for OCF meta-data (elements, attributes, text, CDATA). It resolves
// only the five predefined entities and character references: a DOCTYPE is skipped whole, never read,
// so no external entity, no entity expansion ("billion laughs") and no file or network access can
// happen — and there is nothing to install (npm XML packages pull in far more than this needs).

export interface XmlElement {
  name: string
  attrs: Record<string, string>
  children: XmlElement[]
  /** The element's own text (its direct text and CDATA, not its children's), entities resolved. */
  text: string
}

export class XmlError extends Error {}

const MAX_DEPTH = 64
const MAX_ELEMENTS = 50_000
const NAME = /^[A-Za-z_:][A-Za-z0-9_.:-]*/
const PREDEFINED: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" }

/** Resolves &lt; &gt; &amp; &quot; &apos; &#N; &#xN;; any other reference stays as written. */
export function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9A-Fa-f]{1,6}|#[0-9]{1,7}|[A-Za-z]+);/g, (whole, ref: string) => {
    if (ref[0] === '#') {
      const code = ref[1] === 'x' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10)
      return code > 0 && code <= 0x10ffff && !(code >= 0xd800 && code <= 0xdfff) ? String.fromCodePoint(code) : whole
    }
    return PREDEFINED[ref] ?? whole
  })
}

export function parseXml(src: string): XmlElement {
  let i = 0
  let count = 0
  const fail = (why: string): never => {
    const line = src.slice(0, i).split('\n').length
    throw new XmlError(`${why} (line ${line})`)
  }
  const skipPast = (end: string, what: string): void => {
    const at = src.indexOf(end, i)
    if (at < 0) fail(`unterminated ${what}`)
    i = at + end.length
  }
  const skipDoctype = (): void => {
    // <!DOCTYPE name SYSTEM "x.dtd" [ internal subset ]>: skipped, never interpreted.
    let depth = 0
    let quote = ''
    for (i += '<!DOCTYPE'.length; i < src.length; i++) {
      const c = src[i]!
      if (quote) {
        if (c === quote) quote = ''
        continue
      }
      if (c === '"' || c === "'") quote = c
      else if (c === '[') depth++
      else if (c === ']') depth--
      else if (c === '>' && depth <= 0) {
        i++
        return
      }
    }
    fail('unterminated DOCTYPE')
  }
  /** Skips what may stand between elements at the top level: the declaration, comments, DOCTYPE, blanks. */
  const skipMisc = (): void => {
    for (;;) {
      while (i < src.length && /\s/.test(src[i]!)) i++
      if (src.startsWith('<?', i)) skipPast('?>', 'processing instruction')
      else if (src.startsWith('<!--', i)) skipPast('-->', 'comment')
      else if (src.startsWith('<!DOCTYPE', i)) skipDoctype()
      else return
    }
  }
  const readName = (): string => {
    const m = NAME.exec(src.slice(i, i + 256))
    if (!m) fail('expected a name')
    i += m![0].length
    return m![0]
  }
  const skipBlank = (): void => {
    while (i < src.length && /\s/.test(src[i]!)) i++
  }

  const element = (depth: number): XmlElement => {
    if (depth > MAX_DEPTH) fail(`nested deeper than ${MAX_DEPTH}`)
    if (++count > MAX_ELEMENTS) fail(`more than ${MAX_ELEMENTS} elements`)
    if (src[i] !== '<') fail('expected an element')
    i++
    const el: XmlElement = { name: readName(), attrs: Object.create(null) as Record<string, string>, children: [], text: '' }
    for (;;) {
      skipBlank()
      if (src.startsWith('/>', i)) {
        i += 2
        return el
      }
      if (src[i] === '>') {
        i++
        break
      }
      const attr = readName()
      skipBlank()
      if (src[i] !== '=') fail(`attribute ${attr} without a value`)
      i++
      skipBlank()
      const q = src[i]
      if (q !== '"' && q !== "'") fail(`attribute ${attr}: value not quoted`)
      const end = src.indexOf(q!, i + 1)
      if (end < 0) fail(`attribute ${attr}: unterminated value`)
      const raw = src.slice(i + 1, end)
      if (raw.includes('<')) fail(`attribute ${attr}: '<' in a value`)
      if (attr in el.attrs) fail(`attribute ${attr} given twice`)
      el.attrs[attr] = decodeEntities(raw)
      i = end + 1
    }
    const text: string[] = []
    for (;;) {
      if (i >= src.length) fail(`<${el.name}> is not closed`)
      if (src.startsWith('</', i)) {
        i += 2
        const name = readName()
        if (name !== el.name) fail(`</${name}> closes <${el.name}>`)
        skipBlank()
        if (src[i] !== '>') fail(`</${name}: expected >`)
        i++
        el.text = text.join('')
        return el
      }
      if (src.startsWith('<!--', i)) {
        skipPast('-->', 'comment')
        continue
      }
      if (src.startsWith('<![CDATA[', i)) {
        const end = src.indexOf(']]>', i)
        if (end < 0) fail('unterminated CDATA')
        text.push(src.slice(i + 9, end))
        i = end + 3
        continue
      }
      if (src.startsWith('<?', i)) {
        skipPast('?>', 'processing instruction')
        continue
      }
      if (src[i] === '<') {
        el.children.push(element(depth + 1))
        continue
      }
      const next = src.indexOf('<', i)
      const end = next < 0 ? src.length : next
      text.push(decodeEntities(src.slice(i, end)))
      i = end
    }
  }

  skipMisc()
  if (i >= src.length) fail('no root element')
  const root = element(0)
  skipMisc()
  if (i < src.length) fail('text after the root element')
  return root
}

/** The first child named `name`, or undefined. */
export const child = (el: XmlElement | undefined, name: string): XmlElement | undefined => el?.children.find((c) => c.name === name)
/** Every child named `name`. */
export const childrenNamed = (el: XmlElement | undefined, name: string): XmlElement[] => el?.children.filter((c) => c.name === name) ?? []
