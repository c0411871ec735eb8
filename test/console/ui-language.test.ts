// Issue 18, What 8 (acceptance 3): the console in Korean and English, in headless Chromium against a real
// agent. The product language set at setup (setup.json: ko) is what the login page and a user who chose
// nothing see; Window → Preferences switches the user to English and back, the choice is kept for the user
// across a reload, and an error from the API comes in the user's language.
import t from 'tap'
import { browserUnavailable, startConsoleCluster, launch, newPage, firstLogin, menu } from './browser.js'

const why = await browserUnavailable()
if (why) {
  t.test('console languages in Chromium', { skip: why }, async () => {})
} else {
  t.test('Korean by setup, English by Preferences, and back; kept per user', async (t) => {
    const setup = { language: 'ko', mode: 'single', at: new Date().toISOString() }
    const c = await startConsoleCluster({
      files: { 'config/setup.json': JSON.stringify(setup) },
      main: (nodes) => ({
        generation: 1,
        types: {},
        groups: [{ name: 'web', nodes, failoverOnFailure: true, autoStart: false, autoFailback: false }],
        resources: [{ name: 'marker', type: 'dummy', group: 'web', critical: true, attrs: {}, nodeAttrs: {}, policy: {}, monitored: true }],
        dependencies: [],
      }),
    })
    t.teardown(() => c.stop(t))
    const browser = await launch()
    t.teardown(() => browser.close())
    const page = await newPage(browser)

    // Before login: the product language.
    await page.goto(`${c.base()}/main`)
    await page.waitForSelector('#login-submit')
    t.equal(await page.getAttribute('html', 'lang'), 'ko')
    t.equal((await page.textContent('#login-submit'))?.trim(), '로그인', 'the login form is in Korean')
    await page.fill('#login-password', 'not-the-password')
    await page.click('#login-submit')
    await page.waitForSelector('#login-error:not(:empty)')
    t.equal(await page.textContent('#login-error'), '사용자 ID 또는 비밀번호가 틀렸습니다.')

    await firstLogin(page, c.base())
    const tree = () => page.textContent('[role=tree]')
    await page.waitForSelector('[data-key="group:web"]')
    t.match(await tree(), /클러스터 console-test/, 'the tree in Korean')
    t.match(await tree(), /리소스 그룹/)
    t.match(await page.textContent('#menubtn-action'), /동작/, 'the menu bar in Korean')
    await page.click('#menubtn-action')
    t.match(await page.textContent('#menu-action [data-command=switch]'), /그룹 수동 페일오버/)
    // A command not possible for the selection says why, in Korean.
    t.equal(await page.getAttribute('#menu-action [data-command=lock]', 'title'), '관리 트리에서 리소스 그룹을 선택하십시오')
    await page.keyboard.press('Escape')

    // An API error in the user's language: the catalogue's title leads, the code is unchanged.
    const apiError = (header: string) =>
      page.evaluate(async (header) => {
        const s = (await (await fetch('/api/session')).json()) as { csrfToken: string }
        const r = await fetch('/api/preferences', {
          method: 'PUT',
          headers: { 'content-type': 'application/json', 'x-csrf-token': s.csrfToken, 'accept-language': header },
          body: JSON.stringify({ lang: 'fr' }),
        })
        return { status: r.status, body: (await r.json()) as { error: { code: string; message: string; field?: string } } }
      }, header)
    // (The console sends its language as Accept-Language; a user who chose none gets that, else the product's.)
    const koErr = await apiError('ko')
    t.equal(koErr.status, 400)
    t.equal(koErr.body.error.code, 'MCCS_ERR_INVALID')
    t.match(koErr.body.error.message, /^입력값이 올바르지 않습니다 — \/lang: must be one of/, 'the title in Korean, the reason after it')

    // A wizard in Korean: the console's own labels, and the plugin's labels and help from its locale file.
    await menu(page, 'edit', 'add-resource')
    await page.waitForSelector('#ar-type')
    t.match(await page.textContent('#add-resource'), /리소스 타입/)
    t.match(await page.textContent('#ar-type option[value=process]'), /^프로세스 \(process /, 'the type list from the plugin locale')
    await page.selectOption('#ar-type', 'process')
    await page.waitForFunction(() => /명령/.test(document.querySelector('#add-resource .ar-form')?.textContent ?? ''))
    const form = (await page.textContent('#add-resource .ar-form')) ?? ''
    t.match(form, /실행 사용자/, "the process plugin's field titles in Korean")
    t.match(form, /셸을 거치지 않습니다/, 'and its help')
    // The headings a wizard groups its fields under (x-mccs.group), from the plugin's locale file too.
    await page.selectOption('#ar-type', 'aws-eip')
    await page.waitForSelector('#add-resource .wz-group-head')
    const heads = await page.$$eval('#add-resource .wz-group-head', (es) => es.map((e) => e.textContent))
    t.same(heads, ['탄력적 IP', '노드별'], 'the wizard headings in Korean')
    await page.keyboard.press('Escape')
    await page.waitForSelector('#add-resource', { state: 'detached' })

    // Help → Help: the console guide in Korean (docs/console-guide.ko.md).
    const guide = async () => {
      await menu(page, 'help', 'help')
      await page.waitForSelector('#help-guide:not([aria-busy]) h2')
      const g = { title: await page.textContent('#help-guide h2'), text: (await page.textContent('#help-guide')) ?? '' }
      await page.keyboard.press('Escape')
      await page.waitForSelector('#help', { state: 'detached' })
      return g
    }
    const ko = await guide()
    t.equal(ko.title, 'MCCS 웹 콘솔', 'the guide in Korean')
    t.match(ko.text, /화면 \(매뉴얼 5\.3\)/, 'its sections in Korean')
    t.notMatch(ko.text, /The screen|What the console cannot do yet/, 'no English section')

    // Window → Preferences → English.
    await menu(page, 'window', 'preferences')
    await page.selectOption('#pref-lang', 'en')
    await page.click('#preferences .btn-primary')
    await page.waitForFunction(() => document.documentElement.lang === 'en')
    await page.waitForFunction(() => /Cluster console-test/.test(document.querySelector('[role=tree]')?.textContent ?? ''))
    t.match(await tree(), /Resource groups/, 'the tree in English')
    t.match(await page.textContent('#menubtn-action'), /Action/, 'the menu bar in English')
    t.notMatch(await page.textContent('.app'), /리소스|클러스터|노드/, 'no Korean left on the main screen')
    await menu(page, 'edit', 'add-resource')
    await page.waitForSelector('#ar-type option[value=process]', { state: 'attached' })
    t.match(await page.textContent('#ar-type option[value=process]'), /^Process \(process /, 'the type list in English again')
    await page.keyboard.press('Escape')
    await page.waitForSelector('#add-resource', { state: 'detached' })
    const en = await guide()
    t.equal(en.title, 'The MCCS web console', 'the guide in English, as before')
    t.match(en.text, /The screen \(manual 5\.3\)/)

    // Kept for the user: a reload comes back in English, and the API answers in English (as before).
    await page.reload()
    await page.waitForSelector('[data-key="group:web"]')
    t.match(await tree(), /Cluster console-test/, 'English after a reload')
    const enErr = await apiError('ko')
    t.equal(
      enErr.body.error.message,
      '/lang: must be one of "ko", "en", not "fr"',
      "the user's choice wins over the header; English as before",
    )

    // And back to 한국어.
    await menu(page, 'window', 'preferences')
    t.equal(await page.textContent('#pref-lang option[value=ko]'), '한국어')
    await page.selectOption('#pref-lang', 'ko')
    await page.click('#preferences .btn-primary')
    await page.waitForFunction(() => /클러스터 console-test/.test(document.querySelector('[role=tree]')?.textContent ?? ''))
    t.match(await page.textContent('#menubtn-file'), /파일/)
  })
}
