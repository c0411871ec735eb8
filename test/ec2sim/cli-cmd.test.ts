// `mccs ec2-sim` as its own process (how lab tests and the demo run it): prints its URL, serves, keeps call
// counts in the state file, stops on SIGTERM. Flag and seed-file errors name the field.
import t from 'tap'
import fs from 'node:fs'
import path from 'node:path'
import { spawn } from 'node:child_process'
import { DescribeRouteTablesCommand, CreateRouteCommand } from '@aws-sdk/client-ec2'
import { main } from '../../core/cli/main.js'
import { seedForNodes } from '../../core/ec2sim/server.js'
import { client, tempDir } from './helpers.js'

const MAIN = path.resolve('core/cli/main.ts')

function capture() {
  const out: string[] = []
  const err: string[] = []
  return { io: { out: (s: string) => out.push(s), err: (s: string) => err.push(s) }, out, err }
}

t.test('runs in the foreground, prints its URL, stops on SIGTERM', async (t) => {
  const dir = tempDir(t)
  const seedFile = path.join(dir, 'seed.json')
  fs.writeFileSync(seedFile, JSON.stringify(seedForNodes(['n1', 'n2', 'n3'])))
  const stateFile = path.join(dir, 'state.json')
  const child = spawn(
    process.execPath,
    ['--import', 'tsx', MAIN, 'ec2-sim', '--listen', '127.0.0.1:0', '--state', stateFile, '--seed', seedFile, '--json'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  )
  let exited = false
  const exit = new Promise<number | null>((r) =>
    child.once('exit', (code) => {
      exited = true
      r(code)
    }),
  )
  t.teardown(() => {
    if (!exited) child.kill('SIGKILL')
  })
  let stderr = ''
  child.stderr.on('data', (d) => {
    stderr += d
  })
  const line = await new Promise<string>((resolve, reject) => {
    let buf = ''
    child.stdout.on('data', (d) => {
      buf += d
      if (buf.includes('\n')) resolve(buf.split('\n')[0]!)
    })
    void exit.then(() => reject(new Error(`exited early: ${stderr}`)))
  })
  const info = JSON.parse(line) as { url: string; stateFile: string; pid: number }
  t.match(info.url, /^http:\/\/127\.0\.0\.1:\d+$/)
  t.equal(info.stateFile, stateFile)
  const ec2 = client(info.url)
  const rt = await ec2.send(new DescribeRouteTablesCommand({}))
  t.equal(rt.RouteTables?.length, 2)
  await ec2.send(
    new CreateRouteCommand({ RouteTableId: 'rtb-0demo1', DestinationCidrBlock: '192.168.7.7/32', NetworkInterfaceId: 'eni-n3' }),
  )
  const onDisk = JSON.parse(fs.readFileSync(stateFile, 'utf8'))
  t.same(onDisk.calls, { DescribeRouteTables: 1, CreateRoute: 1 }, 'a separate process reads call counts from the state file')
  t.same(
    onDisk.instances.map((i: { id: string }) => i.id),
    ['i-n1', 'i-n2', 'i-n3'],
    'seeded from the file',
  )
  t.equal(onDisk.routeTables[0].routes[1].networkInterfaceId, 'eni-n3')
  child.kill('SIGTERM')
  t.equal(await exit, 0, 'exits 0 on SIGTERM')
  t.match(stderr, /SIGTERM, stopping/)
})

t.test('refuses bad flags and seeds, naming the field', async (t) => {
  const dir = tempDir(t)
  const state = path.join(dir, 's.json')
  const remote = capture()
  t.equal(await main(['ec2-sim', '--listen', '10.1.2.3:4566', '--state', state], remote.io), 2)
  t.match(remote.err.join('\n'), /--listen: 10\.1\.2\.3 is not a loopback address.*--allow-remote/)
  const noState = capture()
  t.equal(await main(['ec2-sim', '--listen', '127.0.0.1:0'], noState.io), 2)
  t.match(noState.err.join('\n'), /--state: is required/)
  const badPct = capture()
  t.equal(await main(['ec2-sim', '--listen', '127.0.0.1:0', '--state', state, '--throttle-percent', '150'], badPct.io), 2)
  t.match(badPct.err.join('\n'), /--throttle-percent: must be an integer in 0\.\.100/)
  const badListen = capture()
  t.equal(await main(['ec2-sim', '--listen', '127.0.0.1', '--state', state], badListen.io), 2)
  t.match(badListen.err.join('\n'), /--listen: "127\.0\.0\.1" is not <address>:<port>/)

  const seed = seedForNodes(['a', 'b'])
  seed.instances[1]!.enis[0]!.privateIp = '10.0.2.20'
  const seedFile = path.join(dir, 'bad-seed.json')
  fs.writeFileSync(seedFile, JSON.stringify(seed))
  const badSeed = capture()
  t.equal(await main(['ec2-sim', '--listen', '127.0.0.1:0', '--state', state, '--seed', seedFile], badSeed.io), 2)
  t.match(badSeed.err.join('\n'), /instances\[1\]\.enis\[0\]\.privateIp: 10\.0\.2\.20 is not a usable address of subnet subnet-0demo1/)
  t.notOk(fs.existsSync(state), 'no state file made from a bad seed')
})
