// One account store for the cluster (issue 18, What 4, Acceptance 2), with two real agents in the
// namespace lab, each with its console over HTTPS on its own loopback: a password changed on one
// node's console logs in on the other's and the old one does not; a session on the other node ends
// its event stream with the reason; a node that was down during a change takes it when it rejoins;
// "log out everywhere" on one node ends the user's streams on the other.
import t from 'tap'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { labAvailable } from '../../scripts/lab/lab.js'
import { AgentCluster, until } from '../../scripts/lab/agent-cluster.js'

const CLIENT = path.join(path.dirname(fileURLToPath(import.meta.url)), 'fixtures/console-client.mjs')
const FIRST = 'first-pass1!ok'
const SECOND = 'second-pass2!ok'
const THIRD = 'third-pass3!ok'

const avail = await labAvailable()

if (!avail.ok) {
  t.test('accounts replicated between two agents', { skip: `network-namespace lab unavailable: ${avail.reason}` }, async () => {})
} else {
  t.test('a password changed on one console logs in on the other; a node down meanwhile takes it when it rejoins', async (t) => {
    const c = await AgentCluster.create({
      prefix: `mccs${process.pid}a-`,
      nodes: 2,
      hb: (hb) => {
        hb.quorum = { twoNode: true }
      },
      env: () => ({ MCCS_CONSOLE_DISABLE: '0' }),
    })
    t.teardown(() => c.destroy())
    const client = async (n: string, op: string, arg: Record<string, unknown>) => {
      const r = await c.lab.exec(n, [process.execPath, CLIENT, op, JSON.stringify(arg)], { check: false })
      return JSON.parse(r.stdout.trim().split('\n').at(-1) || 'null') as Record<string, unknown>
    }
    const login = async (n: string, password: string) => (await client(n, 'login', { user: 'mcuser', password })).status
    const consoleUp = (n: string) =>
      until(async () => (await client(n, 'ready', {}))?.status === 401 || undefined, 60_000, `${n}'s console`)

    c.start()
    await until(async () => (await c.status('n2')).membership?.role === 'follower' || undefined, 60_000, 'n2 following n1')
    await consoleUp('n1')
    await consoleUp('n2')

    t.same(
      await client('n1', 'change', { user: 'mcuser', current: 'mccs', next: FIRST }),
      { login: 200, change: 204, code: null },
      'changed on n1',
    )
    t.equal(await login('n2', FIRST), 200, "n1's new password logs in on n2")
    t.equal(await login('n2', 'mccs'), 401, 'the default password no longer does on n2')

    // A session on n1 watching its event stream; the password is changed on n2's console.
    const watch = c.lab.spawn('n1', [process.execPath, CLIENT, 'watch', JSON.stringify({ user: 'mcuser', password: FIRST })], {
      stdio: ['ignore', 'pipe', 'ignore'],
    })
    let seen = ''
    let endedAt = 0
    watch.stdout!.on('data', (d) => {
      seen += String(d)
      if (!endedAt && seen.includes('"ended"')) endedAt = Date.now()
    })
    await until(async () => seen.includes('"open":200') || undefined, 15_000, 'the event stream open on n1')
    t.same(
      await client('n2', 'change', { user: 'mcuser', current: FIRST, next: SECOND }),
      { login: 200, change: 204, code: null },
      'changed on n2',
    )
    const answeredAt = Date.now()
    await until(async () => seen.includes('"ended"') || undefined, 10_000, "n1's stream ended")
    t.match(seen, /"ended":\{"reason":"passwordChanged"\}/, "n1's event stream ends saying the password was changed")
    t.comment(`n1's stream ended ${endedAt - answeredAt} ms after n2's console answered the change (negative: before)`)
    t.equal(await login('n1', SECOND), 200, "n2's new password logs in on n1")
    t.equal(await login('n1', FIRST), 401, 'the old one does not')

    // n2 down; the password changed on n1; n2 back: it takes the newer accounts.
    await c.killNode('n2')
    await until(async () => (await c.status('n1')).membership?.partition?.join() === 'n1' || undefined, 30_000, 'n1 alone')
    t.same(
      await client('n1', 'change', { user: 'mcuser', current: SECOND, next: THIRD }),
      { login: 200, change: 204, code: null },
      'changed on n1 while n2 is down',
    )
    c.startAgent('n2')
    await until(async () => (await c.status('n2').catch(() => null))?.membership?.role === 'follower' || undefined, 60_000, 'n2 back')
    await consoleUp('n2')
    await until(async () => (await login('n2', THIRD)) === 200 || undefined, 15_000, 'the new password on the rejoined n2')
    t.equal(await login('n2', SECOND), 401, 'the password from before n2 went down no longer logs in there')
    t.equal(await login('n1', THIRD), 200, 'and n1 still takes the newest')

    // Log out everywhere on n1: a session on n2 ends its stream saying so.
    const watch2 = c.lab.spawn('n2', [process.execPath, CLIENT, 'watch', JSON.stringify({ user: 'mcuser', password: THIRD })], {
      stdio: ['ignore', 'pipe', 'ignore'],
    })
    let seen2 = ''
    watch2.stdout!.on('data', (d) => (seen2 += String(d)))
    await until(async () => seen2.includes('"open":200') || undefined, 15_000, 'the event stream open on n2')
    t.same(
      await client('n1', 'logoutEverywhere', { user: 'mcuser', password: THIRD }),
      { login: 200, logout: 204 },
      'logged out everywhere on n1',
    )
    await until(async () => seen2.includes('"ended"') || undefined, 10_000, "n2's stream ended")
    t.match(seen2, /"ended":\{"reason":"logoutEverywhere"\}/, "n2's event stream ends saying the user logged out everywhere")
  })
}
