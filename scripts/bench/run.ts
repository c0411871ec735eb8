// npm run bench: every benchmark, each in its own process, then one table (docs/BENCHMARKS.md holds
// the last published run). Comparisons are ratios measured in the same run.
//   npm run bench [-- --quick]
import { execFile } from 'node:child_process'
import os from 'node:os'
import path from 'node:path'
import { packageRoot } from '../../core/paths.js'

const root = packageRoot()
const quick = process.argv.includes('--quick')
// --only a,b: run only the benches whose script names are listed (e.g. --only cluster-load,safety).
const onlyAt = process.argv.indexOf('--only')
const only = onlyAt >= 0 ? new Set((process.argv[onlyAt + 1] ?? '').split(',').map((x) => x.replace(/\.ts$/, ''))) : null
/** Runs one bench script; a bench that fails (or is not selected) answers `skipped` with the reason
 *  instead of ending the whole run, so one broken bench does not cost the others' figures. */
const node = async (script: string, args: string[], flags: string[] = []): Promise<Record<string, any>> => {
  selected = !only || only.has(script.replace(/\.ts$/, ''))
  if (!selected) return { skipped: 'not selected (--only)', ...SKIPPED_SHAPE }
  try {
    return await runBench(script, args, flags)
  } catch (err) {
    console.error(`bench ${script} failed: ${(err as Error).message.split('\n').slice(0, 3).join(' | ')}`)
    return { skipped: `failed: ${(err as Error).message.split('\n')[0]}`, ...SKIPPED_SHAPE }
  }
}
/** Whether the last bench asked for was selected: rows of unselected benches are not printed. */
let selected = true
// Enough shape that a row built from a skipped bench prints instead of throwing.
const SKIPPED_SHAPE = {
  noCallback: {},
  oneCallback: {},
  dummyMonitor: {},
  bareIsolatedVm: {},
  detection: {},
  hog: null,
  idle: {},
  groups: {},
}
/** How long a bench may take: 15 min, or for the random-fault run its runs × (seconds + 90 s to set up and
 *  tear down a cluster) — 20 runs × 60 s took longer than 15 min and were cut off (2026-12-07). */
const limitMs = (script: string, args: string[]) =>
  script === 'chaos.ts' ? Math.max(900_000, Number(args[0]) * (Number(args[1]) + 90) * 1000) : 900_000
const runBench = (script: string, args: string[], flags: string[] = []) =>
  new Promise<Record<string, any>>((resolve, reject) => {
    const env = { ...process.env }
    delete env.NODE_OPTIONS
    execFile(
      process.execPath,
      ['--no-node-snapshot', ...flags, '--import', 'tsx', path.join(root, 'scripts/bench', script), ...args],
      { cwd: root, env, timeout: limitMs(script, args), maxBuffer: 16 * 1024 * 1024 },
      (err, out, errOut) => {
        if (err) return reject(new Error(`${script} ${args.join(' ')}: ${err.message}\n${errOut}`))
        const line = out
          .trim()
          .split('\n')
          .filter((l) => l.startsWith('{'))
          .pop()
        if (!line) return reject(new Error(`${script}: no result\n${out}\n${errOut}`))
        resolve(JSON.parse(line))
      },
    )
  })
const f = (x: number | undefined, d = 3) => (typeof x === 'number' ? x.toFixed(d) : '—')
const rows: string[][] = []
/** Lines printed under the table (what a row's count is made of). */
const afterTable: string[] = []
const row = (what: string, ours: string, target: string, note = '') => {
  if (!selected) return
  rows.push([what, ours, target, note])
  console.error(`  ${what}: ${ours}`)
}

console.error(`MCCS benchmarks on ${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}, Node ${process.version}${quick ? ' (quick)' : ''}`)
const warm = await node('sandbox.ts', ['warm'])
const bare = warm.bareIsolatedVm
row(
  'warm hook call, no host callback (median / p99)',
  `${f(warm.noCallback.medianMs)} / ${f(warm.noCallback.p99Ms)} ms`,
  '≤ 0.1 / ≤ 1 ms',
  `bare isolated-vm call with one callback in the same run: ${f(bare.medianMs)} / ${f(bare.p99Ms)} ms`,
)
row(
  'warm hook call, one host callback (median / p99)',
  `${f(warm.oneCallback.medianMs)} / ${f(warm.oneCallback.p99Ms)} ms`,
  '—',
  `${f(warm.oneCallback.medianMs / bare.medianMs, 2)} × the bare call`,
)
row(
  'warm dummy monitor (state read in-isolate) (median / p99)',
  `${f(warm.dummyMonitor.medianMs)} / ${f(warm.dummyMonitor.p99Ms)} ms`,
  '≤ 0.1 / ≤ 1 ms',
  `${f(warm.dummyMonitor.medianMs / bare.medianMs, 2)} × the bare call`,
)
const cold = await node('sandbox.ts', ['cold'])
row(
  'cold isolate start (isolate + compile + context + bootstrap)',
  `${f(cold.medianMs, 2)} ms median, ${f(cold.p99Ms, 2)} ms p99`,
  '—',
  'anchor: isolate 0.83 ms + context 0.26 ms without plugin code',
)
const iso = await node('sandbox.ts', ['isolates'], ['--expose-gc'])
row('memory per isolate (one plugin type)', `${f(iso.perIsolateRssMb, 2)} MB RSS, ${f(iso.heapPerIsolateKb, 0)} KB heap`, '—')
row(
  'memory per context (context-per-resource mode)',
  `${f(iso.perContextHeapKb, 1)} KB heap, ${f(iso.perContextRssKb, 1)} KB RSS`,
  '—',
  'anchor: ≈ 150 KB heap',
)
for (const [n, mode] of [
  [100, 'shared'],
  [1000, 'shared'],
  [1000, 'perResource'],
] as const) {
  const m = await node('sandbox.ts', ['monitor', String(n), mode])
  row(
    `monitor ${n} dummy resources every 1 s (${mode === 'shared' ? 'one context per type' : 'one context per resource'})`,
    `${f(m.cpuPctOneCore, 1)} % of one core, RSS ${f(m.rssMb, 0)} MB`,
    n === 1000 && mode === 'shared' ? '< 10 %, ≤ 250 MB' : '—',
    `${f(m.callsPerS, 0)} monitors/s, ${m.failures} failed`,
  )
}
const eng = await node('engine.ts', quick ? ['200', '10'] : ['1000', '10'], ['--max-old-space-size=4096'])
row(
  `engine: plan for one fault event, ${eng.groups} groups × 10 resources (median / p99)`,
  `${f(eng.faultMedianMs)} / ${f(eng.faultP99Ms)} ms`,
  '—',
  `operator switch ${f(eng.switchMedianMs)} ms; healthy monitor result ${f(eng.healthyMedianMs, 4)} ms`,
)
const idle = await node('agent-idle.ts', quick ? ['200', '10', '10'] : ['1000', '10', '30'])
row(
  `agent idle, ${idle.resources} resources monitored every ${idle.intervalS} s`,
  `${f(idle.cpuPctOneCore, 2)} % of one core, RSS ${f(idle.rssMb, 0)} MB`,
  '< 1 % idle (anchor row), RSS ≤ 250 MB',
  `whole agent process (all threads), ${idle.onlineGroupsAtEnd}/${idle.groups} groups online`,
)
const idle0 = await node('agent-idle.ts', ['0', '10', quick ? '10' : '20'])
row(
  'agent idle, built-in types loaded, no resources',
  `${f(idle0.cpuPctOneCore, 2)} % of one core, RSS ${f(idle0.rssMb, 0)} MB`,
  '< 1 %, RSS ≤ 100 MB',
  'keepalived: 0.013 %, 13 MB; Corosync+Pacemaker: 0.8 %, 192–215 MB',
)

const sapi = await node('status-api.ts', quick ? ['200', '200'] : ['1000', '1000'])
row(
  `status API: GET /api/status over HTTPS with a session, ${sapi.resources} resources in ${sapi.groups} groups (p50 / p99)`,
  `${f(sapi.p50Ms, 1)} / ${f(sapi.p99Ms, 1)} ms`,
  '—',
  `${sapi.requests} sequential requests on one connection, ${sapi.perS}/s, body ${Math.round(sapi.bodyBytes / 1024)} KiB`,
)
{
  // Issue 19, What 2: CPU of one `mccs status --json` call against a running agent (scripts/bench/cli.ts).
  const cli = await node('cli.ts', [quick ? '10' : '20'])
  if (cli.skipped) row('mccs status --json CPU per call', 'skipped', '', String(cli.skipped))
  else {
    const mmm = (s: { min: number; median: number; max: number }) => `${s.min} / ${s.median} / ${s.max} ms`
    row(
      `mccs status --json against a running agent, as bin/mccs runs it (the agent answers through bin/mccs-fast.pl, no Node start): CPU per call, the client's user+sys plus what the agent ran meanwhile (min / median / max of ${cli.calls})`,
      mmm(cli.fastJson.total),
      '≤ 50 ms',
      `client ${mmm(cli.fastJson)}, agent median ${cli.fastJson.agentMs.median} ms; human table: total median ${cli.fastHuman.total.median} ms; an operator command (group lock, refused): total median ${cli.fastOp.total.median} ms; anchor node -e 0 (Node's own start; crm_mon is not installed): ${mmm(cli.floor)}; load ${f(cli.load['1m'], 1)} on ${cli.load.cpus} CPUs`,
    )
    row(
      `mccs status --json through the Node thin entry (node bin/mccs.cjs: without perl, or where the fast path declines), same measure`,
      mmm(cli.thinJson.total),
      '≤ 50 ms',
      `client ${mmm(cli.thinJson)}, ${f(cli.thinJson.median - cli.floor.median, 0)} ms above node -e 0 (${mmm(cli.floor)}); human table: total median ${cli.thinHuman.total.median} ms; the full entry (node --no-node-snapshot dist/mccs.js, the path before): total median ${cli.fullJson.total.median} ms`,
    )
  }
}
for (const [interval, dead, label, qs] of [
  [100, 600, 'default', ''],
  [50, 300, 'aggressive', ''],
  [100, 600, 'default', 'qs'],
  [50, 300, 'aggressive', 'qs'],
  // Issue 19's ≤ 300 ms: at 50/300 the dead time alone is 300 ms, so the goal is measured at 25/125
  // (detection ~130 ms; keepalived at advert 0.1 s detects in ~3 adverts: 312 ms to failover).
  [25, 125, 'fast', ''],
] as const) {
  const fo = await node('failover.ts', [quick ? '3' : '20', String(interval), String(dead), ...(qs ? [qs] : [])])
  if (fo.skipped) {
    row(`failover (${label})`, 'skipped', '', String(fo.skipped))
    continue
  }
  row(
    `node loss → service answers from the survivor, ${label} timing (${interval}/${dead} ms), ${qs ? '2 real agents + quorum server' : '3 real agents'}, fencing on`,
    `median ${fo.failoverMedianMs} ms, p95 ${fo.failoverP95Ms} ms, max ${fo.failoverMaxMs} ms (${fo.runs} runs)`,
    label === 'default' ? '≤ 1,100 ms' : label === 'fast' ? '≤ 300 ms' : '— (the dead time alone is 300 ms)',
    `detection median ${fo.detectMedianMs} ms (max ${fo.detectMaxMs}); ${fo.violations} probe rounds with two nodes answering; keepalived 1 s: 3,286 ms, keepalived 0.1 s: 312 ms, Pacemaker token 1000: 2.3 s`,
  )
}
{
  const aws = await node('aws.ts', [quick ? '1' : '3', '200'])
  for (const [g, r] of Object.entries((aws.groups ?? {}) as Record<string, any>))
    row(
      `AWS ${g} switch, 2 real agents, EC2 endpoint with ${aws.latencyMs} ms latency`,
      `median ${r.switchMedianMs} ms, max ${r.switchMaxMs} ms`,
      '—',
      `${r.apiCallsMedian} API calls per switch: ${JSON.stringify(r.lastCalls)}`,
    )
  if (aws.skipped) row('AWS switch', 'skipped', '', String(aws.skipped))
}
{
  const v = await node('vip.ts', [quick ? '3' : '20'])
  if (v.skipped) row('VIP failover', 'skipped', '', String(v.skipped))
  else
    row(
      `VIP failover (nic <- address <- process), node kill -> first answer on the VIP, 3 real agents, ${v.intervalMs}/${v.deadMs} ms`,
      `median ${v.failoverMedianMs} ms, max ${v.failoverMaxMs} ms (${v.runs} runs)`,
      '—',
      `client ARP cache followed the GARP in ${v.arpFollowed}/${v.runs}; DAD probe 500 ms included; ${v.startFailures} cluster start-ups repeated`,
    )
}
{
  const cb = await node('console.ts', [quick ? '10' : '30'])
  row(
    'console: state change in the agent → shown in the browser (median / p95 / max)',
    cb.skipped ? 'skipped' : `${cb.medianMs} / ${cb.p95Ms} / ${cb.maxMs} ms`,
    '—',
    cb.skipped
      ? String(cb.skipped)
      : `real agent + headless Chromium, ${cb.runs} runs; from the agent's log line of the finished action to the badge changing; command sent → shown ${cb.fromCommandMedianMs} ms median; status events are sent at most every 100 ms`,
  )
}
const hbb = await node('heartbeat.ts', ['--trials', quick ? '5' : '20', '--idle', quick ? '5' : '10', '--hog', quick ? '0' : '20'])
row(
  'heartbeat process alone, 3 nodes × 2 links, 100/600 ms',
  `idle ${hbb.idleCpuPct} % of one core, RSS ${hbb.rssMb} MB; kill detection median ${hbb.detection.medianMs} ms, max ${hbb.detection.maxMs} ms`,
  '< 1 % (whole agent)',
  hbb.hog ? `CPU hog on every core for ${hbb.hog.seconds ?? '?'} s: ${JSON.stringify(hbb.hog)}` : 'no CPU-hog run (quick)',
)

{
  const cl = await node('cluster-load.ts', ['--idle', quick ? '5' : '20', '--hog', quick ? '10' : '60'])
  if (cl.skipped) row('cluster idle / CPU hog', 'skipped', '', String(cl.skipped))
  else {
    const per = Object.entries(
      cl.idle as Record<string, { cpuPct: number; txBytesPerS: number; rxBytesPerS: number; txPacketsPerS: number }>,
    )
    row(
      'agent idle in a 3-node cluster (group online on n1), default timing, per node',
      per.map(([n, x]) => `${n} ${x.cpuPct} %`).join(', ') + ' of one core',
      '< 1 %',
      `heartbeat traffic per node (UDP 14321, both links): ${per.map(([n, x]) => `${n} sends ${x.txBytesPerS} B/s (${x.txPacketsPerS} packets/s), receives ${x.rxBytesPerS} B/s`).join('; ')}`,
    )
    row(
      `false failovers during ${cl.hog.seconds} s of a CPU hog on all ${cl.hog.cores} cores, default timing (100/600 ms)`,
      `${cl.hog.falseNodeDown} false 'node down', ${cl.hog.groupMoves} group moves, ${cl.hog.fences} fences`,
      'none',
      `${cl.hog.probeRounds} probe rounds: ${cl.hog.twoAnswers} with two answers, ${cl.hog.roundsWithoutAnswer} without an answer (probe timeouts under the hog)`,
    )
  }
}
{
  // Size (issue 19, What 4): the heartbeat protocol's own cost per node at 3..32 nodes, in one process.
  const hs = await node('hb-scale.ts', ['--sizes', quick ? '3,32' : '3,8,16,32', '--idle', quick ? '3' : '10'])
  if (hs.skipped) row('size: heartbeat per node', 'skipped', '', String(hs.skipped))
  else
    for (const z of hs.sizes as Array<Record<string, number>>)
      row(
        `heartbeat protocol alone, ${z.nodes} nodes × 2 links in one process, default timing: CPU per node, packets and bytes sent per node`,
        `${z.cpuPctPerNode} % of one core, ${z.packetsPerNodePerS} packets/s (${z.packetBytes} B each), ${z.bytesPerNodePerS} B/s`,
        'grows slower than peers × links',
        `${z.expectedPacketsPerNodePerS} packets/s due at the interval; ${z.peerDownEvents} 'peer down' in ${hs.idleS} s`,
      )
}
{
  // Size (issue 19, What 4): 16 agents in the lab (32 do not fit this 2-core machine: the run saturates it).
  const sc = await node('scale.ts', ['--nodes', quick ? '8' : '16', '--idle', quick ? '5' : '20', '--hog', quick ? '5' : '20'])
  if (sc.skipped) row('size: many agents', 'skipped', '', String(sc.skipped))
  else {
    row(
      `${sc.nodes} agents in the lab, default timing, idle: CPU per agent (median / max), heartbeat bytes sent per node, RSS`,
      `${sc.cpuPctMedian} / ${sc.cpuPctMax} % of one core, ${sc.txBytesPerSMedian} B/s, ${sc.rssMbMedian} MB`,
      '< 1 % (the 3-node goal)',
      `one view formed in ${sc.formedMs} ms from the first agent's start`,
    )
    row(
      `${sc.nodes} agents: kill -9 of one node → every survivor in one quorate view without it (max / median)`,
      `${sc.loss.agreedMaxMs} / ${sc.loss.agreedMedianMs} ms (${sc.loss.views.length} view${sc.loss.views.length === 1 ? '' : 's'})`,
      '≤ 1000 ms',
      "each survivor's status asked every 100 ms",
    )
    row(
      `${sc.nodes} agents: ${sc.hog.seconds} s of a CPU hog on all ${sc.hog.cores} cores`,
      `${sc.hog.falseNodeDown} false 'node down', ${sc.hog.fences} fences`,
      'none',
    )
  }
}
{
  const mi = await node('mirror.ts', [])
  if (mi.skipped) row('mirror disk', 'skipped', '', String(mi.skipped))
  else {
    row(
      'mirror disk, sync: 4 KiB random write QD16 / 4 KiB write+fsync, % of the same disk unreplicated',
      `${mi.percentOfUnreplicated.sync.randwrite} % / ${mi.percentOfUnreplicated.sync.fsync} %`,
      '≥ 80 %',
      `${mi.sync.randwrite4kQd16.iops} vs ${mi.local.randwrite4kQd16.iops} IOPS; async ${mi.percentOfUnreplicated.async.randwrite} %`,
    )
    row(
      'mirror disk: full resync / partial resync after a 16 MiB flap',
      `${mi.fullResync.mibPerS} MiB/s / ${mi.partialResync.msFromLinkUp} ms from link-up`,
      '—',
    )
  }
}
{
  const mf = await node('mirror-failover.ts', quick ? ['1'] : ['5'])
  if (mf.skipped) row('mirror disk: node loss → service with its data back', 'skipped', '', String(mf.skipped))
  else
    row(
      'mirror disk: node loss → service with its data back (2 nodes, SQLite in WAL mode on the mirror behind a VIP; median / max)',
      `${mf.medianMs} ms / ${mf.maxMs} ms`,
      '—',
      `${mf.runs} runs, ${mf.acknowledged} transactions acknowledged, ${mf.lost} lost; includes the two-node fence delay (5 s)`,
    )
}
{
  const ch = await node('chaos.ts', quick ? ['2', '30'] : ['20', '60'])
  if (ch.skipped) row('random-fault run', 'skipped', '', String(ch.skipped))
  else {
    row(
      `random-fault run: ${ch.runs} runs × ${ch.seconds} s, 2 and 3 nodes, single and overlapping faults (${ch.faults} faults, ${ch.fences} fences)`,
      `${ch.overlaps} overlaps / ${ch.fencesInView} fences of a node in the fencer's installed view / ${ch.fencesOfHealthy} fences of a node no fault touched / ${ch.liveness} episodes not back within 5 s`,
      '0 / 0 / 0 / 0',
      `worst VIP outage ${ch.worstOutageMs} ms in ${ch.worstWhere} (goal ≤ 5000)`,
    )
    // Which runs failed a verdict: the seed replays one (`scripts/bench/chaos.ts` with that run's options).
    for (const p of ch.problems as string[]) afterTable.push(`- random-fault run, ${p}`)
    type KindRows = Record<string, { faults: number; worstOutageMs: number; medianActiveOutageMs: number | null }>
    const byKind = ch.byKind as KindRows
    const by3 = ch.byKind3Single as KindRows
    const by2 = ch.byKind2 as KindRows
    const fig = (v: KindRows[string] | undefined) =>
      v && v.faults ? `${v.worstOutageMs} / ${v.medianActiveOutageMs ?? '—'} ms (${v.faults})` : '—'
    for (const [k, v] of Object.entries(byKind)) {
      row(
        `random-fault run, ${k}: worst outage / median outage when it hit the active node`,
        `${v.worstOutageMs} / ${v.medianActiveOutageMs ?? '—'} ms (${v.faults} episodes)`,
        k === 'kill9' || k === 'partition' ? 'worst ≤ 5000, median ≤ 1500 ms' : 'worst ≤ 5000 ms',
        // Two nodes without a quorum server: a standby waits the fence delay (5 s by default) before it fences a
        // silent active node, so an isolated active node costs at least that there.
        `3 nodes, single faults: ${fig(by3[k])}; 2 nodes: ${fig(by2[k])}`,
      )
    }
  }
}
{
  const sf = await node('safety.ts', [quick ? '3' : '20'])
  if (sf.skipped) row('safety checker', 'skipped', '', String(sf.skipped))
  else
    row(
      `safety checker: ${sf.runsEach} partitions + ${sf.runsEach} SIGSTOPs (3 dead times) of the active node, 3 real agents`,
      `${sf.overlaps} overlapping runs, ${sf.resumed} resumes by a faulted node, ${sf.twoAnswers} probe rounds with two answers`,
      '0 / 0 / 0',
      `${sf.intervals} running intervals checked, ${sf.probeRounds} probe rounds; service back after a partition: median ${sf.partitionOutageMedianMs} ms (max ${sf.partitionOutageMaxMs}); after SIGSTOP: median ${sf.sigstopOutageMedianMs} ms (max ${sf.sigstopOutageMaxMs})`,
    )
}
console.log(`| measure | MCCS | target | note |\n|---|---|---|---|\n${rows.map((r) => `| ${r.join(' | ')} |`).join('\n')}`)
if (afterTable.length) console.log(`\n${afterTable.join('\n')}`)
