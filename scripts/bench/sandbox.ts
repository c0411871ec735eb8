// One sandbox measurement per process (so RSS figures are clean). Prints one JSON line.
//   node --no-node-snapshot --import tsx scripts/bench/sandbox.ts <warm|cold|isolates|monitor> [opts]
import path from 'node:path'
import { PluginHost } from '../../core/plugins/host.js'
import { PluginSandbox } from '../../core/plugins/sandbox.js'
import { StateStore, stateProvider } from '../../core/plugins/caps/state.js'
import { loadPluginDir } from '../../core/plugins/manifest.js'
import { packageRoot } from '../../core/paths.js'
import { MonitorLoop } from '../../core/executor/monitor-loop.js'
import { buildPlugin } from '@mccs/plugin-kit/build'
import ivm from 'isolated-vm'
import { mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'

const [what = 'warm', arg1 = '', arg2 = ''] = process.argv.slice(2)
const dummy = path.join(packageRoot(), 'plugins/dummy')
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]!
}
const rssMb = () => process.memoryUsage().rss / 2 ** 20
const tmp = mkdtempSync(path.join(os.tmpdir(), 'mccs-bench-'))
process.on('exit', () => rmSync(tmp, { recursive: true, force: true }))

async function host(mode: 'shared' | 'perResource') {
  const h = new PluginHost({ providers: [stateProvider(new StateStore(tmp))], contextMode: mode })
  if (mode === 'shared') {
    await h.load(dummy)
    return h
  }
  // A context per resource needs room for 1,000 contexts in one isolate: raise the dummy's 32 MB limit.
  const loaded = await loadPluginDir(dummy)
  await h.register({ ...loaded, manifest: { ...loaded.manifest, limits: { memoryMb: 512 } } })
  return h
}

if (what === 'warm') {
  // Warm hook round trips through the whole host (permission checks, contract check, deadline):
  // echo.online has no host callback, echo.monitor exactly one, dummy.monitor reads its state.
  const h = await host('shared')
  await buildPlugin(path.join(packageRoot(), 'scripts/bench/fixtures/echo'))
  await h.load(path.join(packageRoot(), 'scripts/bench/fixtures/echo'))
  const req = { resource: 'r1', node: 'n1', attrs: {}, timeoutMs: 5000 }
  const out: Record<string, unknown> = { what }
  for (const [type, hook, label] of [
    ['echo', 'online', 'noCallback'],
    ['echo', 'monitor', 'oneCallback'],
    ['dummy', 'monitor', 'dummyMonitor'],
  ] as const) {
    for (let i = 0; i < 3000; i++) await h.call(type, hook, req)
    const lat: number[] = []
    for (let i = 0; i < 20000; i++) {
      const t0 = performance.now()
      await h.call(type, hook, req)
      lat.push(performance.now() - t0)
    }
    out[label] = { medianMs: pct(lat, 0.5), p99Ms: pct(lat, 0.99) }
  }
  // The anchor: a bare isolated-vm async call with one host callback, measured in this process.
  const iso = new ivm.Isolate({ memoryLimit: 32 })
  const ctx = await iso.createContext()
  const cb = new ivm.Reference(async () => 'x')
  const fn = (await ctx.evalClosure('return async () => { await $0.apply(undefined, [], { result: { promise: true } }) }', [cb], {
    result: { reference: true },
  })) as ivm.Reference<Function>
  for (let i = 0; i < 3000; i++) await fn.apply(undefined, [], { result: { promise: true } })
  const lat: number[] = []
  for (let i = 0; i < 20000; i++) {
    const t0 = performance.now()
    await fn.apply(undefined, [], { result: { promise: true } })
    lat.push(performance.now() - t0)
  }
  out.bareIsolatedVm = { medianMs: pct(lat, 0.5), p99Ms: pct(lat, 0.99) }
  console.log(JSON.stringify(out))
  h.dispose()
} else if (what === 'cold') {
  const loaded = await loadPluginDir(dummy)
  const times: number[] = []
  for (let i = 0; i < 50; i++) {
    const sb = new PluginSandbox({
      name: 'dummy',
      code: loaded.code,
      memoryMb: 32,
      cpuMs: 1000,
      contextMode: 'shared',
      capSpec: [['state', ['get', 'set', 'delete', 'all']]],
      bridge: async () => '{"value":null}',
      log: () => {},
      onCatastrophicError: () => process.exit(70),
    })
    const t0 = performance.now()
    await sb.warm()
    times.push(performance.now() - t0)
    sb.dispose()
  }
  console.log(JSON.stringify({ what, medianMs: pct(times, 0.5), p99Ms: pct(times, 0.99) }))
} else if (what === 'isolates') {
  // Memory per isolate (one type each) and per context (perResource mode).
  const loaded = await loadPluginDir(dummy)
  const n = 50
  globalThis.gc?.()
  const r0 = rssMb()
  const sbs: PluginSandbox[] = []
  for (let i = 0; i < n; i++) {
    const sb = new PluginSandbox({
      name: `dummy${i}`,
      code: loaded.code,
      memoryMb: 32,
      cpuMs: 1000,
      contextMode: 'perResource',
      capSpec: [['state', ['get', 'set', 'delete', 'all']]],
      bridge: async () => '{"value":null}',
      log: () => {},
      onCatastrophicError: () => process.exit(70),
    })
    await sb.warm()
    sbs.push(sb)
  }
  const perIsolateMb = (rssMb() - r0) / n
  const heapPerIsolateKb = sbs.reduce((a, s) => a + (s.stats().heap?.used_heap_size ?? 0), 0) / n / 1024
  // contexts: 1,000 resources on one isolate, one context each
  const h = await host('perResource')
  const sb = h.get('dummy')!.sandbox
  const h0 = sb.stats().heap!.used_heap_size
  const r1 = rssMb()
  for (let i = 0; i < 1000; i++) await h.call('dummy', 'monitor', { resource: `r${i}`, node: 'n1', attrs: {}, timeoutMs: 5000 })
  const perContextKb = (sb.stats().heap!.used_heap_size - h0) / 1000 / 1024
  const rssPerContextKb = ((rssMb() - r1) * 1024) / 1000
  console.log(
    JSON.stringify({
      what,
      perIsolateRssMb: perIsolateMb,
      heapPerIsolateKb,
      perContextHeapKb: perContextKb,
      perContextRssKb: rssPerContextKb,
    }),
  )
  for (const s of sbs) s.dispose()
  h.dispose()
} else if (what === 'monitor') {
  // N dummy resources monitored every second (staggered, as the agent's monitor loop does).
  const n = Number(arg1 || 100)
  const mode = (arg2 || 'shared') as 'shared' | 'perResource'
  const h = await host(mode)
  const seconds = 10
  for (let i = 0; i < n; i++) await h.call('dummy', 'online', { resource: `r${i}`, node: 'n1', attrs: {}, timeoutMs: 5000 })
  let calls = 0,
    failures = 0
  // The agent's own monitor loop (100 ms ticks, random phase per resource).
  const loop = new MonitorLoop({
    run: (key) =>
      h.call('dummy', 'monitor', { resource: key, node: 'n1', attrs: {}, timeoutMs: 5000 }).then((r) => {
        calls++
        if (r.answer !== 'ok') failures++
      }),
  })
  for (let i = 0; i < n; i++) loop.set(`r${i}`, 1000)
  loop.start()
  await new Promise((r) => setTimeout(r, 1500)) // warm-up
  calls = 0
  const c0 = process.cpuUsage()
  const t0 = performance.now()
  await new Promise((r) => setTimeout(r, seconds * 1000))
  const cpu = process.cpuUsage(c0)
  const wall = performance.now() - t0
  loop.stop()
  console.log(
    JSON.stringify({
      what,
      n,
      mode,
      cpuPctOneCore: ((cpu.user + cpu.system) / 1000 / wall) * 100,
      callsPerS: calls / (wall / 1000),
      failures,
      rssMb: rssMb(),
    }),
  )
  h.dispose()
}
process.exit(0)
