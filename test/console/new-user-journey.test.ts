// Issue 18, Acceptance 4 — tried as a new user would: `npm start`'s demo (the same command, `mccs demo`, with
// its default ports) and its console, and nothing else. The demo runs in a network namespace of the project's
// lab with two cards (eth0, eth1), as a host with two cards would have them; Chromium runs there too. Every
// step follows what the demo printed and what the screens say (labels, buttons, visible text): a group with a
// virtual IP, a process and an AWS Secondary IP (against the demo's EC2 endpoint), online, then switched to
// the other node, where the VIP answers.
import t from 'tap'
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { chromium, type Page } from 'playwright-core'
import { createLab, labAvailable, run } from '../../scripts/lab/lab.js'
import { packageRoot } from '../../core/paths.js'
import { browserUnavailable, CHROMIUM } from './browser.js'

const PASSWORD = 'Newcomer-Pass1!'

/** What a newcomer copies from the demo's printout. */
function fromPrintout(out: string) {
  const need = (re: RegExp, what: string) => {
    const m = re.exec(out)
    if (!m) throw new Error(`the demo's printout does not say ${what}:\n${out}`)
    return m
  }
  const [, url] = need(/web console: (https:\/\/\S+)/, 'where the console is')
  const [, user, password] = need(/first login: (\S+) \/ (\S+)/, 'the first login')
  const [, card1, card2] = need(/nic\s+Network adapter: (\S+) for demo1, (\S+) for demo2/, 'which cards')
  const [, sip, eni1, eni2] = need(/aws-sip\s+(\S+) in the demo's EC2 subnet \S+; ENI (\S+) for demo1, (\S+) for demo2/, 'the AWS IP')
  const [, vip] = need(/address\s+(\S+) on the same cards/, 'the virtual IP')
  const cmd = need(/process\s+Command, one item per line[^\n]*\n((?: {15}\S.*\n)+)/, 'the command')[1]!
  const [, probe] = need(/curl (http:\/\/\S+)/, 'how to reach the service')
  return {
    url: url!,
    user: user!,
    password: password!,
    card1: card1!,
    card2: card2!,
    sip: sip!,
    eni1: eni1!,
    eni2: eni2!,
    vip: vip!,
    command: cmd
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean),
    probe: probe!,
  }
}

const lab = await labAvailable()
const why = lab.ok ? await browserUnavailable() : `network-namespace lab unavailable: ${lab.reason}`
if (why) {
  t.test('a new user from npm start to a switched group', { skip: why }, async () => {})
} else {
  t.test('npm start → console: a group with a VIP, a process and aws-sip, switched to the other node', async (t) => {
    const l = await createLab({ prefix: `mccs${process.pid}nu-`, nodes: 1, links: 2 })
    const dir = await mkdtemp(path.join(os.tmpdir(), 'mccs-newuser-'))
    const ns = l.ns('n1')
    // npm start is `npm run build` then this command, in the checkout.
    const env: NodeJS.ProcessEnv = { ...process.env }
    for (const k of ['NODE_OPTIONS', 'MCCS_HOME', 'MCCS_CONFIG', 'MCCS_CONSOLE_PORT', 'MCCS_DEMO_HB_PORT', 'MCCS_DEMO_EC2_PORT'])
      delete env[k]
    const demo = l.spawn(
      'n1',
      [process.execPath, '--no-node-snapshot', path.join(packageRoot(), 'dist/mccs.js'), 'demo', '--dir', path.join(dir, 'demo')],
      {
        cwd: packageRoot(),
        env,
      },
    )
    let out = ''
    let err = ''
    demo.stdout!.on('data', (d) => (out += d))
    demo.stderr!.on('data', (d) => (err += d))
    const exited = new Promise<void>((r) => demo.once('exit', () => r()))
    t.teardown(async () => {
      if (!t.passing()) t.comment(`demo stdout:\n${out}\ndemo stderr:\n${err}`)
      // Everything the demo started runs in the lab namespace (test/console/demo.test.ts shows its Ctrl-C):
      // killed by PID, then the namespace goes.
      if (demo.exitCode === null) demo.kill('SIGKILL')
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))])
      const left = (await run(['ip', 'netns', 'pids', ns], { check: false })).stdout.split('\n').filter(Boolean)
      for (const p of left) {
        try {
          process.kill(Number(p), 'SIGKILL')
        } catch {
          /* gone */
        }
      }
      await l.destroy()
      await rm(dir, { recursive: true, force: true })
    })
    const t0 = Date.now()
    for (const end = Date.now() + 90_000; !/web console: https/.test(out); await new Promise((r) => setTimeout(r, 100)))
      if (Date.now() > end || demo.exitCode !== null) throw new Error(`the demo never printed its console:\n${out}\n${err}`)
    const p = fromPrintout(out)
    t.same([p.card1, p.card2], ['eth0', 'eth1'], "the printout names the host's two cards, one per node")

    // Chromium in the demo's namespace: where the printed URL (127.0.0.1) is this host's.
    const wrapper = path.join(dir, 'chromium-in-ns.sh')
    await writeFile(wrapper, `#!/bin/sh\nexec ip netns exec ${ns} ${CHROMIUM} "$@"\n`)
    await chmod(wrapper, 0o755)
    const browser = await chromium.launch({ executablePath: wrapper, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] })
    t.teardown(() => browser.close())
    const ctx = await browser.newContext({ ignoreHTTPSErrors: true, viewport: { width: 1280, height: 800 } })
    const page = await ctx.newPage()
    t.teardown(async () => {
      // On failure: what the newcomer saw (MCCS_DEBUG_CONSOLE=<dir>).
      if (!t.passing() && process.env.MCCS_DEBUG_CONSOLE)
        await page.screenshot({ path: path.join(process.env.MCCS_DEBUG_CONSOLE, 'new-user-journey.png') }).catch(() => {})
    })
    page.setDefaultTimeout(20_000)
    const started = Date.now()

    // The first login, as printed; the forced password change.
    await page.goto(p.url)
    await page.getByLabel('User ID').fill(p.user)
    await page.getByLabel('Password').fill(p.password)
    await page.getByRole('button', { name: 'Log in' }).click()
    await page.getByLabel('New password', { exact: true }).fill(PASSWORD)
    await page.getByLabel('New password again').fill(PASSWORD)
    await page.getByRole('button', { name: 'Change password' }).click()

    // The first screen's log: the demo's start, without a refused command (it asked for the group while the
    // coordinator was starting it, and the log said 'rejected').
    const log = page.locator('#log-lines')
    await log
      .getByText(/agent started/)
      .first()
      .waitFor()
    t.notMatch(await log.textContent(), /rejected/, "the console's log shows no refused command from the demo's start")

    await page.getByRole('button', { name: 'Add group' }).click()
    await page.getByLabel('Group name').fill('app')
    await page.getByRole('button', { name: 'Add', exact: true }).click()
    await page.getByRole('treeitem', { name: /^app\b/ }).waitFor()

    const addResource = async (type: RegExp, fill: (d: Page) => Promise<void>) => {
      await page.getByRole('button', { name: 'Add resource' }).click()
      const typeSelect = page.getByLabel('Resource type')
      const label = (await typeSelect.locator('option').allTextContents()).find((x) => type.test(x))
      if (!label) throw new Error(`no resource type ${type} offered`)
      await typeSelect.selectOption({ label })
      t.equal(await page.getByLabel('Resource group', { exact: true }).inputValue(), 'app', `${label}: the new group is preselected`)
      await fill(page)
      await page.getByRole('button', { name: 'Add', exact: true }).click()
      await page.getByRole('dialog').waitFor({ state: 'detached' })
    }
    /** A warning after Add that offers its fix as a button: clicked, as a newcomer would. */
    const takeOfferedLink = async (parent: RegExp, child: RegExp) => {
      const offer = page.getByRole('button', { name: new RegExp(`^Make ${parent.source} depend on ${child.source}$`) })
      await offer.click()
      await offer.waitFor({ state: 'detached' })
    }
    await addResource(/^Network card/, async (d) => {
      await d.getByRole('combobox', { name: 'Network adapter on demo1', exact: true }).fill(p.card1)
      await d.getByRole('combobox', { name: 'Network adapter on demo2', exact: true }).fill(p.card2)
    })
    await addResource(/^AWS Secondary Private IP/, async (d) => {
      await d.getByLabel('Secondary private IP').fill(p.sip)
      await d.getByRole('combobox', { name: 'ENI on demo1', exact: true }).fill(p.eni1)
      await d.getByRole('combobox', { name: 'ENI on demo2', exact: true }).fill(p.eni2)
    })
    await takeOfferedLink(/AWS_SIP_\S+/, /\S+/)
    await addResource(/^Network address/, async (d) => {
      await d.getByLabel('Virtual IP address').fill(p.vip)
      await d.getByRole('combobox', { name: 'Network card on demo1', exact: true }).fill(p.card1)
      await d.getByRole('combobox', { name: 'Network card on demo2', exact: true }).fill(p.card2)
    })
    await takeOfferedLink(/IP_\S+/, /AWS_SIP_\S+/)
    await addResource(/^Process/, async (d) => {
      // What a newcomer tries first: the whole command on one line. Refused, saying what to do.
      await d.getByLabel('Command', { exact: true }).fill(p.command.join(' '))
      await d.getByRole('button', { name: 'Add', exact: true }).click()
      await d.getByText(/put \S+ on the first line and each argument on a line of its own/).waitFor()
      await d.getByLabel('Command', { exact: true }).fill(p.command.join('\n'))
      await d.getByLabel('Stop grace time (s)').fill('1')
    })

    // The process on the address, in the group's Resource dependency tab (nothing warns about a process).
    const tree = page.getByRole('tree')
    const names = async () => (await tree.getByRole('treeitem').allTextContents()).join(' ')
    // The tree shows a resource added a moment ago once its next refresh comes (ci9: the process, added
    // last, was not there yet when read at once): looked for as a user would, for a few seconds.
    const named = async (re: RegExp) => {
      for (const end = Date.now() + 10_000; ; await page.waitForTimeout(200)) {
        const m = re.exec(await names())
        if (m) return m[0]
        if (Date.now() > end) throw new Error(`no resource ${re} in the tree after 10 s: ${await names()}`)
      }
    }
    const nic = await named(/\beth0\b|nic\d+/)
    const sipName = await named(new RegExp(`AWS_SIP_${p.sip.replace(/\./g, '\\.')}`))
    const vipName = await named(new RegExp(`IP_${p.vip.split('/')[0]!.replace(/\./g, '\\.')}`))
    const proc = await named(/process\d+/)
    await tree.getByText('app', { exact: true }).click()
    await page.getByRole('tab', { name: 'Resource dependency' }).click()
    await page.getByLabel('Parent (depends on the child)').selectOption(proc)
    await page.getByLabel('Child (comes online first)').selectOption(vipName)
    await page.getByRole('button', { name: 'Link', exact: true }).click()
    for (const [parent, child] of [
      [sipName, nic],
      [vipName, sipName],
      [proc, vipName],
    ] as const)
      await page
        .getByRole('listitem')
        .filter({ hasText: `${parent} depends on ${child}` })
        .waitFor()
    t.equal(await page.getByText(/manual's order/).count(), 0, 'no configuration warning left once linked as printed')

    // Online, then Switch; the state tab says where it runs.
    await page.getByRole('tab', { name: 'Resource state' }).click()
    await page.getByRole('button', { name: 'Online', exact: true }).click()
    await page.getByRole('dialog').getByRole('button', { name: 'OK' }).click()
    await page.getByText(/online on demo1/).waitFor({ timeout: 30_000 })
    const answer = async () => (await run(['ip', 'netns', 'exec', ns, 'curl', '-s', '-m', '2', p.probe], { check: false })).stdout
    t.equal(await answer(), 'hi\n', 'the VIP answers on demo1')
    await page.getByRole('button', { name: 'Switch', exact: true }).click()
    await page.getByRole('dialog').getByRole('button', { name: 'OK' }).click()
    await page.getByText(/online on demo2/).waitFor({ timeout: 30_000 })
    const card2 = (await run(['ip', 'netns', 'exec', ns, 'ip', '-br', 'addr', 'show', p.card2], { check: false })).stdout
    t.match(card2, p.vip.split('/')[0]!, `the VIP is on demo2's card ${p.card2}`)
    const card1 = (await run(['ip', 'netns', 'exec', ns, 'ip', '-br', 'addr', 'show', p.card1], { check: false })).stdout
    t.notMatch(card1, p.vip.split('/')[0]!, `and no longer on demo1's card ${p.card1}`)
    t.equal(await answer(), 'hi\n', 'the VIP answers on demo2')
    const rows = await page.getByRole('row').allTextContents()
    for (const r of [nic, sipName, vipName, proc]) {
      const row = rows.find((x) => x.startsWith(r))
      t.match(row, /offline.*online/, `${r}: offline on demo1, online on demo2`)
    }
    t.equal(await page.getByText(/faulted/).count(), 0, 'nothing faulted on the way')
    t.comment(`demo printed its console after ${started - t0} ms; the journey took ${Date.now() - started} ms`)
    t.ok(Date.now() - started < 60_000, 'the journey in the console within 60 s')
  })
}
