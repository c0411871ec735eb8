// `npm test`'s last step: run tap, then name the failing files and assertions once more at the very end.
// Why: tap prints the coverage table after the results, so a CI log cut to its tail shows a failure count
// and no names. This adds nothing to how the tests run; it reads tap's own result files afterwards.
import { spawnSync } from 'node:child_process'
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, relative } from 'node:path'

const RESULTS = '.tap/test-results'
const started = Date.now()
const tap = spawnSync(join('node_modules', '.bin', 'tap'), process.argv.slice(2), { stdio: 'inherit' })
const code = tap.status ?? 1

/** Every .tap file written by this run (older ones belong to earlier runs). */
function resultFiles(dir) {
  let out = []
  let entries
  try {
    entries = readdirSync(dir, { withFileTypes: true })
  } catch {
    return out
  }
  for (const e of entries) {
    const p = join(dir, e.name)
    if (e.isDirectory()) out = out.concat(resultFiles(p))
    else if (e.name.endsWith('.tap') && statSync(p).mtimeMs >= started - 1000) out.push(p)
  }
  return out
}

/** The failed assertions of one file: their names, and the first error message under each. */
function failures(text) {
  const lines = text.split('\n')
  const found = []
  for (let i = 0; i < lines.length; i++) {
    const m = /^(\s*)not ok \d+ - (.*?)(?: # time=.*)?$/.exec(lines[i])
    if (!m) continue
    let detail = ''
    for (let j = i + 1; j < Math.min(lines.length, i + 40); j++) {
      const d = /^\s+(?:error|message|fileName|lineNumber|signal|exitCode|tapCaught): (.*)$/.exec(lines[j])
      if (d) detail += (detail ? ' ' : '') + d[0].trim()
      if (/^\s*\.\.\.$/.test(lines[j])) break
    }
    found.push(`${'  '.repeat(Math.min(4, m[1].length / 4))}${m[2]}${detail ? `  [${detail.slice(0, 300)}]` : ''}`)
  }
  return found
}

const failed = []
for (const f of resultFiles(RESULTS)) {
  const names = failures(readFileSync(f, 'utf8'))
  if (names.length) failed.push({ file: relative(RESULTS, f).replace(/\.tap$/, ''), names })
}
if (failed.length) {
  console.log(`\n# failing test files (${failed.length}), repeated here because the coverage table comes last:`)
  for (const { file, names } of failed) {
    console.log(`#   ${file}`)
    for (const n of names.slice(0, 8)) console.log(`#     ${n}`)
    if (names.length > 8) console.log(`#     ... and ${names.length - 8} more`)
  }
} else if (code !== 0) {
  console.log(`\n# tap exited ${code}; no failed assertion in this run's result files (a coverage floor or a crash)`)
}
process.exit(code)
