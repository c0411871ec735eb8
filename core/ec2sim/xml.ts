// EC2's XML: `<XResponse xmlns=...><requestId/>...` with lists as `<fooSet><item>..</item></fooSet>`, and errors
// as `<Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/></Response>`.

export const EC2_XMLNS = 'http://ec2.amazonaws.com/doc/2016-11-15/'

export type XmlValue = string | number | boolean | undefined | null | XmlValue[] | { [k: string]: XmlValue }

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;')

function el(name: string, v: XmlValue): string {
  if (v === undefined || v === null) return ''
  if (Array.isArray(v)) return v.length ? `<${name}>${v.map((x) => el('item', x)).join('')}</${name}>` : `<${name}/>`
  if (typeof v === 'object')
    return `<${name}>${Object.entries(v)
      .map(([k, x]) => el(k, x))
      .join('')}</${name}>`
  return `<${name}>${esc(String(v))}</${name}>`
}

export function responseXml(action: string, requestId: string, body: Record<string, XmlValue>): string {
  const inner = Object.entries(body)
    .map(([k, v]) => el(k, v))
    .join('')
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${action}Response xmlns="${EC2_XMLNS}"><requestId>${requestId}</requestId>${inner}</${action}Response>`
}

export function errorXml(code: string, message: string, requestId: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>${esc(code)}</Code><Message>${esc(message)}</Message></Error></Errors><RequestID>${requestId}</RequestID></Response>`
}

export const tagSet = (name: string): XmlValue => (name ? [{ key: 'Name', value: name }] : [])
