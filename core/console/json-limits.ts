// Limits on JSON a client sends, checked before JSON.parse: V8 parses a deeply nested document slowly and
// on the event loop (9 MiB of '[' took 0.8 s, four in parallel 3 s — past the 600 ms dead time). This
// scan is linear, allocates nothing, and skips string contents with indexOf, so it costs a few ms per MiB.

export interface NestingProblem {
  /** JSON pointer of the top-level member where the nesting goes too deep ('/' for the document). */
  field: string
  reason: string
}

/** The first place where `text` nests arrays/objects deeper than `maxDepth`, or null. Syntax is not
 *  checked here (JSON.parse does that after); only brackets outside strings count. */
export function nestingProblem(text: string, maxDepth: number): NestingProblem | null {
  let depth = 0
  // The top-level member being scanned, to name the field: a key of the root object or an index of the root array.
  let rootIsArray = false
  let member: string | number | null = null
  let expectKey = false
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i)
    if (c === 0x22) {
      // a string: jump to its closing quote (one not escaped by an odd run of backslashes)
      let end = i
      for (;;) {
        end = text.indexOf('"', end + 1)
        if (end < 0) return null // unterminated: JSON.parse reports it
        let bs = 0
        while (text.charCodeAt(end - 1 - bs) === 0x5c) bs++
        if (bs % 2 === 0) break
      }
      if (depth === 1 && !rootIsArray && expectKey) {
        member = text.slice(i + 1, Math.min(end, i + 201))
        expectKey = false
      }
      i = end
    } else if (c === 0x5b || c === 0x7b) {
      // [ {
      depth++
      if (depth === 1) {
        rootIsArray = c === 0x5b
        member = rootIsArray ? 0 : null
        expectKey = !rootIsArray
      }
      if (depth > maxDepth) {
        const field = member === null ? '/' : `/${String(member).replace(/~/g, '~0').replace(/\//g, '~1')}`
        return { field, reason: `nested deeper than ${maxDepth} levels (arrays and objects inside each other)` }
      }
    } else if (c === 0x5d || c === 0x7d) {
      // ] }
      depth--
    } else if (c === 0x2c && depth === 1) {
      // , between top-level members
      if (rootIsArray) member = (member as number) + 1
      else expectKey = true
    }
  }
  return null
}
