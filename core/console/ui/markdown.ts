// The small part of Markdown the console guide uses (headings, paragraphs, lists, tables, code, emphasis,
// links), parsed into plain data. The page builds it with text nodes only (help.ts): nothing in the text
// ever becomes HTML, and only http(s) links are links. Pure, so it is tested without a browser.

export type Inline =
  | { t: 'text'; text: string }
  | { t: 'code'; text: string }
  | { t: 'strong'; text: string }
  | { t: 'em'; text: string }
  | { t: 'link'; text: string; href: string }

export type Block =
  | { t: 'heading'; level: number; id: string; text: Inline[] }
  | { t: 'para'; text: Inline[] }
  | { t: 'list'; ordered: boolean; items: Inline[][] }
  | { t: 'code'; text: string }
  | { t: 'table'; head: Inline[][]; rows: Inline[][][] }

const INLINE = /`([^`]+)`|\*\*(.+?)\*\*|\*([^*\s][^*]*)\*|!\[([^\]]*)\]\(([^)]*)\)|\[([^\]]+)\]\(([^)\s]+)\)/g

export function inline(s: string): Inline[] {
  const out: Inline[] = []
  let last = 0
  const text = (x: string) => {
    if (x) out.push({ t: 'text', text: x })
  }
  for (const m of s.matchAll(INLINE)) {
    text(s.slice(last, m.index))
    last = m.index + m[0].length
    if (m[1] !== undefined) out.push({ t: 'code', text: m[1] })
    else if (m[2] !== undefined) out.push({ t: 'strong', text: m[2] })
    else if (m[3] !== undefined) out.push({ t: 'em', text: m[3] })
    else if (m[4] !== undefined)
      continue // a picture: the screenshots are not served; the screen itself is beside the guide
    else if (/^https?:\/\//i.test(m[7]!)) out.push({ t: 'link', text: m[6]!, href: m[7]! })
    else text(m[6]!) // a link into the other docs, which the console does not serve: its words only
  }
  text(s.slice(last))
  return out
}

const slug = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
const cells = (line: string) =>
  line
    .trim()
    .replace(/^\||\|$/g, '')
    .split('|')
    .map((c) => inline(c.trim()))

export function parseMarkdown(src: string): Block[] {
  const lines = src.replace(/\r\n?/g, '\n').split('\n')
  const out: Block[] = []
  let i = 0
  while (i < lines.length) {
    const line = lines[i]!
    if (!line.trim()) {
      i++
      continue
    }
    const fence = /^```/.test(line)
    if (fence || /^ {4}\S/.test(line)) {
      const code: string[] = []
      if (fence) {
        i++
        while (i < lines.length && !/^```/.test(lines[i]!)) code.push(lines[i++]!)
        i++
      } else
        while (i < lines.length && (/^ {4}/.test(lines[i]!) || (!lines[i]!.trim() && /^ {4}\S/.test(lines[i + 1] ?? ''))))
          code.push(lines[i++]!.slice(4))
      out.push({ t: 'code', text: code.join('\n') })
      continue
    }
    const hd = /^(#{1,6})\s+(.*)$/.exec(line)
    if (hd) {
      out.push({ t: 'heading', level: hd[1]!.length, id: slug(hd[2]!), text: inline(hd[2]!) })
      i++
      continue
    }
    if (/^\s*\|/.test(line) && /^\s*\|?\s*:?-{3,}/.test(lines[i + 1] ?? '')) {
      const head = cells(line)
      const rows: Inline[][][] = []
      i += 2
      while (i < lines.length && /^\s*\|/.test(lines[i]!)) rows.push(cells(lines[i++]!))
      out.push({ t: 'table', head, rows })
      continue
    }
    const item = /^\s*([-*]|\d+\.)\s+(.*)$/.exec(line)
    if (item) {
      const ordered = /\d/.test(item[1]!)
      const items: string[] = []
      while (i < lines.length) {
        const m = /^\s*([-*]|\d+\.)\s+(.*)$/.exec(lines[i]!)
        if (m && /\d/.test(m[1]!) === ordered) items.push(m[2]!)
        else if (items.length && /^\s{2,}\S/.test(lines[i]!)) items[items.length - 1] += ' ' + lines[i]!.trim()
        else break
        i++
      }
      out.push({ t: 'list', ordered, items: items.map(inline) })
      continue
    }
    const para: string[] = []
    while (i < lines.length && lines[i]!.trim() && !/^(#{1,6}\s|```|\s*([-*]|\d+\.)\s|\s*\|)/.test(lines[i]!)) para.push(lines[i++]!.trim())
    if (!para.length) para.push(lines[i++]!.trim()) // a line no rule above took: kept as text
    const blocks = inline(para.join(' '))
    if (blocks.length) out.push({ t: 'para', text: blocks })
  }
  return out
}
