// AWS end to end from the console (issue 18, What 3), in headless Chromium against `mccs demo` (what
// `npm start` runs): the demo's agents are configured for its own EC2 endpoint, so the AWS wizard's ENI
// lists are filled on each node; Edit → AWS settings shows region, endpoint and profile per node, adds an
// AWS CLI profile on every node (files 0600), and Check asks every node over the peer channel: OK against
// the demo's endpoint, and within a few seconds a message naming the endpoint when EC2 cannot be reached
// (refused on one node, silent on the other), with progress while it waits. A bad region is refused under
// its field and nothing is written.
import t from 'tap'
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, readdir, rm, stat } from 'node:fs/promises'
import net from 'node:net'
import dgram from 'node:dgram'
import os from 'node:os'
import path from 'node:path'
import { packageRoot } from '../../core/paths.js'
import { browserUnavailable, launch, newPage, firstLogin, menu, pick } from './browser.js'

const root = packageRoot()
const IPS = ['127.0.0.1', '127.0.0.2']

const tcpFree = (host: string, port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net
      .createServer()
      .once('error', () => resolve(false))
      .listen(port, host, () => s.close(() => resolve(true)))
  })
const udpFree = (host: string, port: number) =>
  new Promise<boolean>((resolve) => {
    const s = dgram.createSocket('udp4').once('error', () => {
      s.close()
      resolve(false)
    })
    s.bind(port, host, () => s.close(() => resolve(true)))
  })
const allFree = async (f: (h: string, p: number) => Promise<boolean>, p: number) => {
  for (const ip of IPS) if (!(await f(ip, p))) return false
  return true
}
async function freePort(check: (p: number) => Promise<boolean>): Promise<number> {
  for (;;) {
    const p = 20000 + Math.floor(Math.random() * 40000)
    if (await check(p)) return p
  }
}

/** PIDs of processes whose environment or command line mentions `dir` (the demo's homes). */
async function processesUsing(dir: string): Promise<number[]> {
  const out: number[] = []
  for (const p of await readdir('/proc')) {
    if (!/^\d+$/.test(p) || Number(p) === process.pid) continue
    const txt = await Promise.all(['environ', 'cmdline'].map((f) => readFile(`/proc/${p}/${f}`, 'latin1').catch(() => '')))
    if (txt.some((x) => x.includes(dir))) out.push(Number(p))
  }
  return out
}

const why = await browserUnavailable()
if (why) {
  t.test('AWS from the console', { skip: why }, async () => {})
} else {
  t.test('the demo is configured for its EC2 endpoint; AWS settings per node, checked on every node', async (t) => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'mccs-ui-aws-'))
    const svcPort = await freePort((p) => allFree(tcpFree, p))
    const consolePort = await freePort((p) => allFree(tcpFree, p))
    const hbPort = await freePort(async (p) => (await allFree(udpFree, p)) && (await allFree(tcpFree, p + 4)))
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      MCCS_CONSOLE_PORT: String(consolePort),
      MCCS_DEMO_HB_PORT: String(hbPort),
      MCCS_DEMO_EC2_PORT: '0',
    }
    delete env.NODE_OPTIONS
    delete env.MCCS_HOME
    delete env.AWS_CONFIG_FILE
    delete env.AWS_SHARED_CREDENTIALS_FILE
    const demo = spawn(
      process.execPath,
      ['--no-node-snapshot', path.join(root, 'dist/mccs.js'), 'demo', '--dir', dir, '--port', String(svcPort)],
      { env, stdio: ['ignore', 'pipe', 'pipe'] },
    )
    let out = ''
    let err = ''
    demo.stdout!.on('data', (d) => (out += d))
    demo.stderr!.on('data', (d) => (err += d))
    const exited = new Promise<number | null>((resolve) => demo.once('exit', (code) => resolve(code)))
    // Accepts connections and never answers: an EC2 endpoint that hangs.
    const held: net.Socket[] = []
    const silent = net.createServer((s) => held.push(s))
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()))
    const silentPort = (silent.address() as net.AddressInfo).port
    const closedPort = await freePort((p) => tcpFree('127.0.0.1', p))
    t.teardown(async () => {
      for (const s of held) s.destroy()
      await new Promise<void>((r) => silent.close(() => r()))
      if (demo.exitCode === null) {
        demo.kill('SIGINT')
        await Promise.race([exited, new Promise((r) => setTimeout(r, 40_000).unref())])
      }
      if (demo.exitCode === null) demo.kill('SIGKILL')
      for (const p of await processesUsing(dir)) {
        try {
          process.kill(p, 'SIGKILL')
        } catch {
          /* gone */
        }
      }
      await rm(dir, { recursive: true, force: true })
    })
    const waitFor = async (what: RegExp, ms: number) => {
      const end = Date.now() + ms
      while (!what.test(out)) {
        if (Date.now() > end || demo.exitCode !== null)
          throw new Error(`demo output never matched ${what}\nstdout:\n${out}\nstderr:\n${err}`)
        await new Promise((r) => setTimeout(r, 100))
      }
    }
    await waitFor(/web console: https:\/\/127\.0\.0\.1:\d+\/main/, 120_000)
    const ec2Url = /EC2 endpoint: (http:\/\/\S+)/.exec(out)?.[1]
    t.ok(ec2Url, `the demo printed its EC2 endpoint (${ec2Url})`)
    t.match(out, /each agent uses it: profile 'demo'/, 'and says its agents use it')

    const browser = await launch()
    t.teardown(() => browser.close())
    const page = await newPage(browser, { width: 1280, height: 800 })
    await firstLogin(page, `https://127.0.0.1:${consolePort}`)
    await page.waitForSelector('[data-key="node:demo2"] [data-state=up]', { timeout: 30_000 })

    // 1. The AWS SIP wizard's ENI lists, each filled on its own node (demo2's over the peer channel).
    await pick(page, 'group:demo')
    await menu(page, 'edit', 'add-resource')
    await page.selectOption('#ar-type', 'aws-sip')
    for (const n of ['demo1', 'demo2']) {
      await page.waitForSelector(`#wz-eni--${n}-note[data-count]`, { timeout: 20_000 })
      const enis = await page.$$eval(`#wz-eni--${n}-list option`, (os) => os.map((o) => (o as HTMLOptionElement).value))
      t.same(
        enis.sort(),
        ['eni-demo1', 'eni-demo2'],
        `${n}'s ENI list from the demo's endpoint (${await page.textContent(`#wz-eni--${n}-note`)})`,
      )
    }
    await page.keyboard.press('Escape')
    await page.waitForSelector('#add-resource', { state: 'detached' })

    // 2. Edit → AWS settings: what each node uses.
    await menu(page, 'edit', 'aws-settings')
    await page.waitForSelector('#aws-table')
    for (const n of ['demo1', 'demo2']) {
      t.equal(await page.inputValue(`#aws-region-${n}`), 'us-east-1', `${n}: region`)
      t.equal(await page.inputValue(`#aws-endpoint-${n}`), ec2Url, `${n}: the demo's endpoint`)
      t.equal(await page.inputValue(`#aws-profile-${n}`), 'demo', `${n}: profile demo`)
    }
    t.match(await page.textContent('#aws-profiles-demo2'), /demo/)

    // Add AWS CLI Profile, on every node.
    await page.click('#aws-addprofile-demo1')
    await page.fill('#awsp-name', 'ops')
    await page.fill('#awsp-key', 'test')
    await page.fill('#awsp-secret', 'test')
    t.equal(await page.getAttribute('#awsp-secret', 'type'), 'password', 'the secret is typed blind')
    t.ok(await page.isChecked('#awsp-all'), 'on every node by default')
    await page.click('#awsp-add')
    await page.waitForSelector('#aws-profile-dlg', { state: 'detached' })
    for (const n of ['demo1', 'demo2']) {
      t.equal(await page.inputValue(`#aws-profile-${n}`), 'ops', `${n} now uses ops`)
      const cred = path.join(dir, n, 'aws/credentials')
      t.equal((await stat(cred)).mode & 0o777, 0o600, `${n}: credentials file 0600`)
      t.match(
        await readFile(cred, 'utf8'),
        /\[ops\]\naws_access_key_id = test\naws_secret_access_key = test\n/,
        `${n}: the profile in its agent's file`,
      )
    }
    t.match(await page.textContent('#aws-profile-demo1'), /ops \(us-east-1, keys set\)|ops \(keys set\)/, 'shown as "keys set"')

    // Save: written on each node, then checked on each node.
    await page.click('#aws-save')
    for (const n of ['demo1', 'demo2']) await page.waitForSelector(`#aws-check-${n}.aws-ok`, { timeout: 15_000 })
    for (const n of ['demo1', 'demo2']) {
      t.match(await page.textContent(`#aws-check-${n}`), /OK: EC2 answered in \d+ ms \(profile ops, us-east-1\)/, `${n}: OK`)
      t.match(JSON.parse(await readFile(path.join(dir, n, 'config/aws.json'), 'utf8')), {
        profile: 'ops',
        region: 'us-east-1',
        endpoint: ec2Url,
      })
      t.equal((await stat(path.join(dir, n, 'config/aws.json'))).mode & 0o777, 0o600)
    }

    // A bad region: refused under its field on that node, nothing written there.
    const before = await readFile(path.join(dir, 'demo1/config/aws.json'), 'utf8')
    await page.fill('#aws-region-demo1', 'mars-1')
    await page.click('#aws-save')
    await page.waitForFunction(() => (document.querySelector('#aws-region-err-demo1')?.textContent ?? '') !== '')
    t.match(await page.textContent('#aws-region-err-demo1'), /region.*eu-west-1/, 'the refusal names the region and says why')
    t.equal(await readFile(path.join(dir, 'demo1/config/aws.json'), 'utf8'), before, 'nothing written')
    await page.fill('#aws-region-demo1', 'us-east-1')

    // EC2 that cannot be reached: refused on demo1, silent on demo2. Check (unsaved values) on every node.
    await page.fill('#aws-endpoint-demo1', `http://127.0.0.1:${closedPort}`)
    await page.fill('#aws-endpoint-demo2', `http://127.0.0.1:${silentPort}`)
    const t0 = Date.now()
    await page.click('#aws-check')
    await page.waitForFunction(() => /checking… \d+\.\d s/.test(document.querySelector('#aws-check-demo2')?.textContent ?? ''))
    t.pass('progress is shown while demo2 waits')
    await page.waitForSelector('#aws-check-demo1.aws-bad', { timeout: 10_000 })
    await page.waitForSelector('#aws-check-demo2.aws-bad', { timeout: 10_000 })
    const ms = Date.now() - t0
    t.ok(ms < 7000, `both nodes answered within a few seconds (${ms} ms)`)
    t.match(
      await page.textContent('#aws-check-demo1'),
      new RegExp(`EC2 cannot be reached at http://127\\.0\\.0\\.1:${closedPort}: .*ECONNREFUSED`),
      'demo1: the endpoint named, refused',
    )
    t.match(
      await page.textContent('#aws-check-demo2'),
      new RegExp(`EC2 cannot be reached at http://127\\.0\\.0\\.1:${silentPort}: .*(timeout|no answer|deadline)`),
      'demo2: the endpoint named, no answer',
    )
    t.match(JSON.parse(await readFile(path.join(dir, 'demo2/config/aws.json'), 'utf8')), { endpoint: ec2Url }, 'a check writes nothing')
    // At 1280×800 the dialog's buttons are on screen (the operator can reach Save and Check).
    for (const b of ['#aws-save', '#aws-check']) {
      const box = await page.locator(b).boundingBox()
      t.ok(box && box.y + box.height <= 800 && box.x + box.width <= 1280, `${b} is inside the window`)
    }
    if (process.env.MCCS_DEBUG_CONSOLE) await page.screenshot({ path: `${process.env.MCCS_DEBUG_CONSOLE}/ui-aws-settings.png` })

    await page.keyboard.press('Escape')
    await page.waitForSelector('#aws-dlg', { state: 'detached' })

    // 3. The AWS SIP wizard checks each node's profile on that node: a profile demo2 does not have is named
    // under demo2's column within a few seconds (the type's validate hook is not waited for); then Add.
    await pick(page, 'group:demo')
    await menu(page, 'edit', 'add-resource')
    await page.selectOption('#ar-type', 'aws-sip')
    await page.waitForSelector('#wz-eni--demo2-note[data-count]', { timeout: 20_000 })
    await page.fill('#wz-ip', '10.0.1.50')
    await page.fill('#wz-eni--demo1', 'eni-demo1')
    await page.fill('#wz-eni--demo2', 'eni-demo2')
    await page.fill('#wz-profile--demo1', 'ops')
    await page.fill('#wz-profile--demo2', 'nosuch')
    const t1 = Date.now()
    await page.click('#ar-check')
    await page.waitForFunction(() => /nosuch/.test(document.querySelector('#wz-profile--demo2-err')?.textContent ?? ''), null, {
      timeout: 10_000,
    })
    const ms1 = Date.now() - t1
    t.ok(ms1 < 6000, `the wizard named demo2's profile within a few seconds (${ms1} ms)`)
    t.match(await page.textContent('#wz-profile--demo2-err'), /No usable credentials for profile nosuch/)
    t.match(await page.textContent('#wz-profile--demo1-note'), /OK: EC2 answered/, "demo1's profile checked on demo1: OK")
    t.ok(await page.isVisible('#wz-profile--demo1-add-profile'), 'Add AWS CLI Profile is offered beside the profile')
    await page.fill('#wz-profile--demo2', 'ops')
    const name = await page.inputValue('#ar-name')
    await page.click('#ar-add')
    await page.waitForSelector('#add-resource', { state: 'detached', timeout: 20_000 }).catch(async (e: Error) => {
      const errs = await page.$$eval('#add-resource .field-error', (es) => es.map((x) => x.textContent).filter(Boolean))
      throw new Error(`${e.message}; the wizard says: ${errs.join(' | ')}`)
    })
    await page.waitForSelector(`[data-key="resource:${name}"]`)
    t.pass(`the AWS SIP resource ${name} is added from the console`)
    // Action → Online on the new resource: it comes online on the group's node, against the demo's EC2.
    await pick(page, `resource:${name}`)
    await menu(page, 'action', 'online')
    await page
      .waitForSelector(`[data-key="resource:${name}"] > .tree-row [data-state=online]`, { timeout: 30_000 })
      .catch(async (e: Error) => {
        const row = await page.textContent(`[data-key="resource:${name}"] > .tree-row`)
        const logs = await Promise.all(['demo1', 'demo2'].map((n) => readFile(path.join(dir, n, 'logs/mccs.log'), 'utf8').catch(() => '')))
        const lines = logs
          .flatMap((l) => l.split('\n'))
          .filter((l) => l.includes(name) || /aws ec2/.test(l))
          .slice(-15)
        throw new Error(`${e.message}\nrow: ${row}\n${lines.join('\n')}`)
      })
    const ec2 = JSON.parse(await readFile(path.join(dir, 'ec2.json'), 'utf8')) as {
      instances: Array<{ enis: Array<{ id: string; secondaryIps?: unknown }> }>
    }
    t.match(JSON.stringify(ec2.instances), /10\.0\.1\.50/, 'and the address is assigned in the EC2 endpoint')

    demo.kill('SIGINT')
    t.equal(await exited, 0, 'the demo stops cleanly')
  })
}
