// Strict JSON reading for configuration files: JSON.parse says neither where a syntax error is (on
// every Node version) nor that a key was given twice (it silently keeps the last one). An operator
// editing main.json by hand needs both, so a small scanner locates the problem first.

export interface JsonProblem {
  reason: string
  line: number
  column: number
  /** JSON pointer of the member concerned (duplicate keys). */
  pointer?: string
}

export type JsonRead = { ok: true; value: unknown; duplicates: JsonProblem[] } | { ok: false; error: JsonProblem }

export function readJson(text: string): JsonRead {
  const s = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text
  const scanner = new Scanner(s)
  try {
    scanner.document()
  } catch (e) {
    if (e instanceof ScanError) return { ok: false, error: { reason: e.reason, ...lineColumn(s, e.at) } }
    throw e
  }
  return {
    ok: true,
    value: JSON.parse(s),
    duplicates: scanner.duplicates.map((d) => ({
      reason: `key ${JSON.stringify(d.key)} is given twice`,
      pointer: d.pointer,
      ...lineColumn(s, d.at),
    })),
  }
}

export function pointerSegment(key: string | number): string {
  return String(key).replace(/~/g, '~0').replace(/\//g, '~1')
}

export function lineColumn(s: string, at: number): { line: number; column: number } {
  let line = 1
  let start = 0
  for (let i = 0; i < at && i < s.length; i++) {
    if (s.charCodeAt(i) === 10) {
      line++
      start = i + 1
    }
  }
  return { line, column: at - start + 1 }
}

class ScanError extends Error {
  constructor(
    readonly at: number,
    readonly reason: string,
  ) {
    super(reason)
  }
}

const NUMBER = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y

class Scanner {
  i = 0
  readonly duplicates: { key: string; pointer: string; at: number }[] = []
  constructor(private readonly s: string) {}

  document(): void {
    this.value('')
    this.ws()
    if (this.i < this.s.length) this.fail('unexpected text after the end of the JSON document')
  }

  private fail(reason: string, at = this.i): never {
    throw new ScanError(at, reason)
  }

  private ws(): void {
    while (this.i < this.s.length && ' \t\n\r'.includes(this.s[this.i]!)) this.i++
  }

  private value(ptr: string): void {
    this.ws()
    const c = this.s[this.i]
    if (c === undefined) this.fail('unexpected end of input')
    if (c === '{') return this.object(ptr)
    if (c === '[') return this.array(ptr)
    if (c === '"') {
      this.string()
      return
    }
    if (c === 't') return this.literal('true')
    if (c === 'f') return this.literal('false')
    if (c === 'n') return this.literal('null')
    if (c === '-' || (c >= '0' && c <= '9')) return this.number()
    this.fail(`unexpected character ${JSON.stringify(c)}`)
  }

  private object(ptr: string): void {
    this.i++
    this.ws()
    if (this.s[this.i] === '}') {
      this.i++
      return
    }
    const seen = new Set<string>()
    for (;;) {
      this.ws()
      if (this.s[this.i] !== '"') this.fail('expected a double-quoted property name')
      const at = this.i
      const key = this.string()
      const child = `${ptr}/${pointerSegment(key)}`
      if (seen.has(key)) this.duplicates.push({ key, pointer: child, at })
      seen.add(key)
      this.ws()
      if (this.s[this.i] !== ':') this.fail("expected ':' after the property name")
      this.i++
      this.value(child)
      this.ws()
      const c = this.s[this.i]
      if (c === ',') {
        this.i++
        continue
      }
      if (c === '}') {
        this.i++
        return
      }
      this.fail(c === undefined ? "unexpected end of input: missing '}'" : "expected ',' or '}' after a property value")
    }
  }

  private array(ptr: string): void {
    this.i++
    this.ws()
    if (this.s[this.i] === ']') {
      this.i++
      return
    }
    for (let n = 0; ; n++) {
      this.value(`${ptr}/${n}`)
      this.ws()
      const c = this.s[this.i]
      if (c === ',') {
        this.i++
        continue
      }
      if (c === ']') {
        this.i++
        return
      }
      this.fail(c === undefined ? "unexpected end of input: missing ']'" : "expected ',' or ']' after an array element")
    }
  }

  private string(): string {
    const start = this.i
    this.i++
    let out = ''
    for (;;) {
      const c = this.s[this.i]
      if (c === undefined) this.fail('unterminated string', start)
      if (c === '"') {
        this.i++
        return out
      }
      if (c === '\\') {
        const e = this.s[this.i + 1]
        const simple: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' }
        if (e !== undefined && e in simple) {
          out += simple[e]
          this.i += 2
          continue
        }
        if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(this.s.slice(this.i + 2, this.i + 6))) {
          out += String.fromCharCode(parseInt(this.s.slice(this.i + 2, this.i + 6), 16))
          this.i += 6
          continue
        }
        this.fail('invalid escape sequence in string')
      }
      if (c < ' ') this.fail('control character in string (escape it)')
      out += c
      this.i++
    }
  }

  private number(): void {
    NUMBER.lastIndex = this.i
    const m = NUMBER.exec(this.s)
    if (!m) this.fail('invalid number')
    this.i += m[0].length
  }

  private literal(word: string): void {
    if (!this.s.startsWith(word, this.i)) this.fail(`invalid literal (expected ${word})`)
    this.i += word.length
  }
}
