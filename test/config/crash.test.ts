// Crash safety (ARCHITECTURE "Bad input and faults": a crash at any point loses no committed
// configuration). A child commits in a tight loop; we SIGKILL it at random moments, 100 times, and
// after each kill main.json and hb.json must parse, validate and hold the last acknowledged
// generation or the one in flight, never a torn file; temp files must not pile up.

import { spawn } from 'node:child_process'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'
import { isTempFile } from '../../core/config/atomic.js'
import { ConfigStore, createInitial } from '../../core/config/store.js'
import { validateHb, validateMain } from '../../core/config/validate.js'
import { tempDir } from './fixture.js'

// ~0.3 s of CPU per restart (node start + schema compilation): ~20 s on an idle 2-CPU box, much more
// when the machine is shared; the file's default timeout would cut a loaded run short.
t.setTimeout(300_000)

const KILLS = 100
/** Two directories killed in parallel: the kill count stays 100, the wall time halves. */
const WORKERS = 2
const helperTs = fileURLToPath(new URL('./commit-loop.ts', import.meta.url))

/** A bundled helper starts in ~0.3 s instead of ~0.7 s through tsx: 100 restarts fit the time budget. */
async function helperCommand(out: string): Promise<string[]> {
  try {
    const { build } = await import('esbuild')
    const outfile = join(out, 'commit-loop.mjs')
    await build({ entryPoints: [helperTs], outfile, bundle: true, platform: 'node', format: 'esm', target: 'node20', logLevel: 'silent' })
    return [outfile]
  } catch {
    return ['--import', 'tsx', helperTs]
  }
}

async function prepare(dir: string): Promise<void> {
  await createInitial(dir, {
    cluster: 'crash',
    nodes: [
      { name: 'n1', address: '10.0.0.1' },
      { name: 'n2', address: '10.0.0.2' },
    ],
  })
  const s = new ConfigStore(dir)
  await s.load()
  await s.commit(
    {
      generation: 0,
      groups: [{ name: 'g', nodes: ['n1', 'n2'], failoverOnFailure: true, autoStart: true, autoFailback: false }],
      resources: [{ name: 'r', type: 'dummy', group: 'g', critical: true, attrs: { gen: 2 }, nodeAttrs: {}, policy: {}, monitored: true }],
      dependencies: [],
      types: {},
    },
    { expectGeneration: 1 },
  )
}

interface Stats {
  kills: number
  inFlight: number
  leftTemp: number
  maxTemps: number
  main: number
  hb: number
}

/** Kills a committing child `kills` times on one directory; returns a failure text or the stats. */
async function killLoop(dir: string, cmd: string[], kills: number, live: Set<() => void>): Promise<string | Stats> {
  const st: Stats = { kills: 0, inFlight: 0, leftTemp: 0, maxTemps: 0, main: 2, hb: 1 }
  // tap preloads its coverage hooks through NODE_OPTIONS; the helper needs none of that.
  const env = { ...process.env, NODE_OPTIONS: '' }
  const start = () => {
    const c = spawn(process.execPath, [...cmd, dir, '--wait'], { stdio: ['pipe', 'pipe', 'pipe'], env })
    const kill = () => c.kill('SIGKILL')
    live.add(kill)
    const closed = new Promise<void>((resolve) =>
      c.on('close', () => {
        live.delete(kill)
        resolve()
      }),
    )
    return { c, kill, closed }
  }
  let next = start()
  for (let k = 0; k < kills; k++) {
    const { c, kill, closed } = next
    // The next victim starts up while this one runs and while its files are checked.
    next = k + 1 < kills ? start() : next
    let out = ''
    let err = ''
    c.stderr.setEncoding('utf8').on('data', (d: string) => {
      err += d
    })
    const committing = new Promise<void>((resolve) => {
      c.stdout.setEncoding('utf8').on('data', (d: string) => {
        out += d
        if (out.includes('\nmain ')) resolve()
      })
      void closed.then(resolve)
    })
    c.stdin.end('go\n')
    // Once the first commit is acknowledged, commits follow back to back (a few ms each): a random
    // moment then falls mid-write, between the renames, or between commits.
    await committing
    await new Promise((r) => setTimeout(r, Math.random() * 20))
    kill()
    await closed
    if (c.signalCode !== 'SIGKILL') return `helper ended by itself (exit ${c.exitCode}): ${err}`

    const lines = out.trim().split('\n')
    const ready = /^ready (\d+) (\d+)$/.exec(lines[0] ?? '')
    if (!ready) return `helper did not start: ${out} ${err}`
    if (Number(ready[1]) !== st.main || Number(ready[2]) !== st.hb)
      return `kill ${k}: restart loaded ${ready[1]}/${ready[2]}, disk had ${st.main}/${st.hb}`
    const ack = { main: st.main, hb: st.hb }
    for (const l of lines.slice(1)) {
      const m = /^(main|hb) (\d+)$/.exec(l)
      if (m?.[1] === 'main' || m?.[1] === 'hb') ack[m[1]] = Number(m[2])
    }

    const hb = validateHb(await readFile(join(dir, 'hb.json'), 'utf8'), { file: 'hb.json' })
    if (!hb.ok) return `kill ${k}: hb.json invalid: ${JSON.stringify(hb.errors)}`
    const main = validateMain(await readFile(join(dir, 'main.json'), 'utf8'), { file: 'main.json', hb: hb.config })
    if (!main.ok) return `kill ${k}: main.json invalid: ${JSON.stringify(main.errors)}`
    const g = main.config.generation
    if (g !== ack.main && g !== ack.main + 1) return `kill ${k}: main.json generation ${g}, last acknowledged ${ack.main}`
    if (hb.config.generation !== ack.hb && hb.config.generation !== ack.hb + 1)
      return `kill ${k}: hb.json generation ${hb.config.generation}, last acknowledged ${ack.hb}`
    if (main.config.resources[0]?.attrs['gen'] !== g)
      return `kill ${k}: content of generation ${String(main.config.resources[0]?.attrs['gen'])} under generation ${g}`
    const prev = validateMain(await readFile(join(dir, 'main.json.prev'), 'utf8'), { file: 'main.json.prev' })
    // .prev is written first: it is the generation before main.json's, or equal when the kill fell between the renames.
    if (!prev.ok || (prev.config.generation !== g - 1 && prev.config.generation !== g))
      return `kill ${k}: main.json.prev invalid or out of step`

    const temps = (await readdir(dir)).filter(isTempFile).length
    if (temps > 1) return `kill ${k}: ${temps} temp files (stale ones are not cleaned)`
    if (g > ack.main) st.inFlight++
    if (temps > 0) st.leftTemp++
    st.maxTemps = Math.max(st.maxTemps, temps)
    st.main = g
    st.hb = hb.config.generation
    st.kills++
  }
  return st
}

t.test(`${KILLS} SIGKILLs during commits never leave a torn or lost configuration`, async (t) => {
  const work = await tempDir(t)
  const cmd = await helperCommand(work)
  const live = new Set<() => void>()
  t.teardown(() => {
    for (const kill of live) kill()
  })
  const dirs = Array.from({ length: WORKERS }, (_, w) => join(work, `config${w}`))
  await Promise.all(dirs.map(prepare))

  const started = Date.now()
  const results = await Promise.all(dirs.map((d) => killLoop(d, cmd, KILLS / WORKERS, live)))
  const seconds = (Date.now() - started) / 1000
  for (const r of results) if (typeof r === 'string') t.fail(r)
  const stats = results.filter((r): r is Stats => typeof r !== 'string')
  const sum = (f: (s: Stats) => number) => stats.reduce((a, s) => a + f(s), 0)
  t.equal(
    sum((s) => s.kills),
    KILLS,
    'every kill checked',
  )
  t.ok(
    stats.every((s) => s.main >= 2 + KILLS / WORKERS),
    'every run committed before it was killed',
  )
  t.comment(
    `${sum((s) => s.kills)} kills in ${seconds.toFixed(1)} s; main generations reached ${stats.map((s) => s.main).join(', ')}` +
      `, hb ${stats.map((s) => s.hb).join(', ')}; ${sum((s) => s.inFlight)} kills landed after a rename but before the ack; ` +
      `${sum((s) => s.leftTemp)} left a temp file (max ${Math.max(...stats.map((s) => s.maxTemps))} at once, removed at the next load)`,
  )
})
