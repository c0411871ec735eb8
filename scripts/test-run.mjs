// `npm test`'s last step: run tap, then name the failing files and assertions once more at the very end.
// Why: tap prints the coverage table after the results, so a CI log cut to its tail shows a failure count
// and no names. tap's output passes through unchanged (it is TAP when not on a terminal, as in CI); the
// top-level "not ok" lines name the files (a crash after every assertion passed shows only there), and
// tap's own result files give the failed assertions' names.
import { spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'

const failedFiles = new Map() // file -> why the file failed (signal, exit code), from tap's own output
let current = null
let buffered = ''
function scan(line) {
  const top = /^not ok \d+ - (.+?)(?: # time=.*)?$/.exec(line)
  if (top) {
    current = top[1]
    failedFiles.set(current, '')
    return
  }
  if (current && /^\S/.test(line)) current = null
  const d = current && /^ {2}(signal|exitCode): (\S+)/.exec(line)
  if (d && d[2] !== 'null' && d[2] !== '0') failedFiles.set(current, `${failedFiles.get(current)} ${d[1]} ${d[2]}`.trim())
}

/** The failed assertions of one file, from tap's result file: their names and where they are. */
function failedAssertions(file) {
  let text
  try {
    text = readFileSync(join('.tap/test-results', `${file}.tap`), 'utf8')
  } catch {
    return []
  }
  const lines = text.split('\n')
  const found = []
  for (let i = 0; i < lines.length; i++) {
    const m = /^(\s*)not ok \d+ - (.*?)(?: # time=.*)?$/.exec(lines[i])
    if (!m) continue
    let where = ''
    for (let j = i + 1; j < Math.min(lines.length, i + 40) && !/^\s*\.\.\.$/.test(lines[j]); j++) {
      const d = /^\s+(?:error|message|fileName|lineNumber): (.*)$/.exec(lines[j])
      if (d) where += (where ? ' ' : '') + d[0].trim()
    }
    found.push(`${'  '.repeat(Math.min(4, m[1].length / 4))}${m[2]}${where ? `  [${where.slice(0, 300)}]` : ''}`)
  }
  return found
}

// tap runs test files with the loaders of the plugin set it was last built with, and rebuilds for .taprc's
// set only during that run: the files of the first run after a change (every fresh clone: npm installs tap
// built with its default set, ts-node included) would load through both ts-node and test/setup/ts-loader.mjs.
// Rebuild first when the sets differ (~15 s, once).
// --checks (npm test): the type check and the lint first, beside each other and beside tap's build. Each is
// one process on one core for ~25 s of CPU: in series they were a minute of a 2-core CI's 20 before any test.
// Taken off argv before tap's config reads it.
const checks = process.argv[2] === '--checks'
if (checks) process.argv.splice(2, 1)
const { TapConfig } = await import('@tapjs/config')
const { signature } = await import('@tapjs/test')
const steps = []
if ((await TapConfig.load()).pluginSignature !== signature) steps.push(['tap build', join('node_modules', '.bin', 'tap'), ['build']])
const args = process.argv.slice(2)
if (checks) steps.push(['typecheck', 'npm', ['run', 'typecheck', '--silent']], ['lint', 'npm', ['run', 'lint', '--silent']])
const results = await Promise.all(
  steps.map(
    ([name, cmd, a]) =>
      new Promise((resolve) => {
        let out = ''
        const p = spawn(cmd, a, { stdio: ['ignore', 'pipe', 'pipe'] })
        p.stdout.on('data', (d) => (out += d))
        p.stderr.on('data', (d) => (out += d))
        p.on('close', (code, signal) => resolve({ name, code: code ?? (signal ? 1 : 0), out }))
      }),
  ),
)
// As TAP comments: this output comes before tap's own.
for (const r of results) for (const line of r.out.split('\n').filter((l) => l.trim())) process.stdout.write(`# ${r.name}: ${line}\n`)
const failedStep = results.find((r) => r.code !== 0)
if (failedStep) {
  console.log(
    `# ${results
      .filter((r) => r.code !== 0)
      .map((r) => r.name)
      .join(', ')} failed: no test was run`,
  )
  process.exit(failedStep.code)
}

const tap = spawn(join('node_modules', '.bin', 'tap'), args, { stdio: ['inherit', 'pipe', 'inherit'] })
tap.stdout.on('data', (chunk) => {
  process.stdout.write(chunk)
  const lines = (buffered + chunk.toString('utf8')).split('\n')
  buffered = lines.pop() ?? ''
  for (const l of lines) scan(l)
})
tap.on('close', (status, signal) => {
  if (buffered) scan(buffered)
  const code = status ?? (signal ? 1 : 0)
  if (failedFiles.size) {
    console.log(`\n# failing test files (${failedFiles.size}), repeated here because the coverage table comes last:`)
    for (const [file, why] of failedFiles) {
      console.log(`#   ${file}${why ? `  (${why})` : ''}`)
      const names = failedAssertions(file)
      for (const n of names.slice(0, 8)) console.log(`#     ${n}`)
      if (names.length > 8) console.log(`#     ... and ${names.length - 8} more`)
    }
  } else if (code !== 0) {
    console.log(`\n# tap exited ${code} with no failing test file named (a coverage floor, or tap itself)`)
  }
  process.exit(code)
})
