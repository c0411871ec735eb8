// `mccs user list|add|delete|passwd` (issue 18) as an operator runs it: bin/mccs against a running agent and
// its console on a real HTTPS port. The command goes through the console API, so its rules are the API's: the
// shipped password must be changed first, the password rules (the user id not inside), administrators only,
// not one's own account, the same error codes and fields. Passwords come from stdin, never from arguments;
// the messages are in English or Korean (--lang).
import t from 'tap'
import net from 'node:net'
import path from 'node:path'
import { spawn } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { startTestAgent } from '../agent/helpers.js'
import { startConsole } from '../../core/console/server.js'
import { consoleSettings } from '../../core/console/settings.js'
import { packageRoot } from '../../core/paths.js'
import { userCommand } from '../../core/cli/user-cmd.js'
import { consoleTarget, consoleHosts } from '../../core/cli/console-client.js'

const ADMIN_PW = 'Admin-pass1!ok'
const BOB_PW = 'Secret-pass2!ok'

const whichScript = (): string | false => (existsSync('/usr/bin/script') ? false : 'no util-linux script for a pty')

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (s.address() as net.AddressInfo).port
      s.close(() => resolve(p))
    })
  })

t.test('mccs user through the console API', async (t) => {
  const port = await freePort()
  process.env.MCCS_CONSOLE_PORT = String(port) // the agent's bootstrap and the CLI's env both take it
  const ta = await startTestAgent({ groups: [], resources: [], dependencies: [], types: {} })
  delete process.env.MCCS_CONSOLE_PORT
  t.teardown(() => ta.cleanup())
  const b = ta.agent.opts.bootstrap
  t.equal(b.consolePort, port)
  const c = await startConsole(ta.agent, { ...consoleSettings(b, path.join(ta.home, 'no-ui'), {}), listen: ['127.0.0.1'] })
  t.teardown(() => c.close())
  const accountsFile = path.join(b.configDir, 'accounts.json')

  const bin = path.join(packageRoot(), 'bin/mccs')
  const env = { ...ta.env }
  delete env.MCCS_LANG
  const cli = (stdin: string, ...args: string[]) =>
    new Promise<{ code: number; out: string; err: string }>((resolve) => {
      const p = spawn(bin, args, { env, stdio: ['pipe', 'pipe', 'pipe'] })
      let out = ''
      let err = ''
      p.stdout.on('data', (d) => (out += d))
      p.stderr.on('data', (d) => (err += d))
      p.on('close', (code) => resolve({ code: code ?? 1, out, err }))
      p.stdin.end(stdin)
    })

  await t.test('arguments are checked before any password is read', async (t) => {
    const before = await readFile(accountsFile, 'utf8')
    const badId = await cli('', 'user', 'add', 'bad id!')
    t.equal(badId.code, 2, badId.err)
    t.match(badId.err, /<user>.*must be 1-64 letters/)
    const badRole = await cli('', 'user', 'add', 'carol', '--role', 'king')
    t.equal(badRole.code, 2)
    t.match(badRole.err, /--role.*must be one of admin, operator/)
    const pwArg = await cli('', 'user', 'add', 'carol', `--password=${BOB_PW}`)
    t.equal(pwArg.code, 2, 'a password given as an option is refused, not ignored')
    t.match(pwArg.err, /--password.*never given as arguments/)
    t.notMatch(pwArg.err, new RegExp(BOB_PW), 'and not echoed')
    const usage = await cli('', 'user', 'rename', 'x')
    t.equal(usage.code, 2)
    t.match(usage.err, /usage: mccs user list/)
    const ko = await cli('', 'user', '--lang', 'ko')
    t.equal(ko.code, 2)
    t.match(ko.err, /사용법: mccs user/, 'usage in Korean')
    t.equal(await readFile(accountsFile, 'utf8'), before, 'nothing changed')
  })

  await t.test('the shipped password must be changed first, by the rules', async (t) => {
    const pending = await cli('mccs\n', 'user', 'list')
    t.equal(pending.code, 3, pending.err)
    t.match(pending.err, /MCCS_ERR_PASSWORD_CHANGE_REQUIRED/)
    const wrong = await cli('nope\nwhatever\n', 'user', 'passwd')
    t.equal(wrong.code, 3)
    t.match(wrong.err, /MCCS_ERR_LOGIN_FAILED/)
    const before = await readFile(accountsFile, 'utf8')
    const weak = await cli('mccs\nshort1\n', 'user', 'passwd')
    t.equal(weak.code, 3)
    t.match(
      weak.err,
      /MCCS_ERR_PASSWORD_RULE: \/next: must be at least 12 characters .*\(rule: length\)/,
      'the API error: code, field, rule',
    )
    const withId = await cli('mccs\nmcuser-pass12!x\n', 'user', 'passwd', 'mcuser')
    t.equal(withId.code, 3)
    t.match(withId.err, /\(rule: noUser\)/, 'the user id inside the password is refused')
    t.equal(await readFile(accountsFile, 'utf8'), before, 'nothing changed by a refusal')
    const early = await cli('mccs\n', 'user', 'passwd')
    t.equal(early.code, 2)
    t.match(early.err, /stdin ended before the new password/)
    const ok = await cli(`mccs\n${ADMIN_PW}\n`, 'user', 'passwd')
    t.equal(ok.code, 0, ok.err)
    t.equal(ok.out.trim(), "Password of mcuser changed; the user's other sessions ended.")
    t.notMatch(await readFile(accountsFile, 'utf8'), new RegExp(ADMIN_PW), 'only a hash is stored')
  })

  await t.test('add, list, delete as an administrator; an operator may not', async (t) => {
    const withId = await cli(`${ADMIN_PW}\nbob-Secret12!\n`, 'user', 'add', 'bob')
    t.equal(withId.code, 3)
    t.match(withId.err, /MCCS_ERR_PASSWORD_RULE: \/password: .*\(rule: noUser\)/)
    const wrongLogin = await cli(`mccs\n${BOB_PW}\n`, 'user', 'add', 'bob')
    t.equal(wrongLogin.code, 3)
    t.match(wrongLogin.err, /MCCS_ERR_LOGIN_FAILED/, 'the old password no longer logs in')

    const add = await cli(`${ADMIN_PW}\n${BOB_PW}\n`, 'user', 'add', 'bob')
    t.equal(add.code, 0, add.err)
    t.match(add.out, /^Account bob added \(operator\); every node of the cluster takes it\./)
    const again = await cli(`${ADMIN_PW}\n${BOB_PW}\n`, 'user', 'add', 'bob', '--role', 'admin')
    t.equal(again.code, 3)
    t.match(again.err, /MCCS_ERR_CONFLICT: bob \/user: an account of this id exists already/)

    const list = await cli(`${ADMIN_PW}\n`, 'user', 'list')
    t.equal(list.code, 0, list.err)
    const lines = list.out.trim().split('\n')
    t.match(lines[0], /^User ID\s+Role\s+Password set$/)
    t.match(lines[1], /^bob\s+operator\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/)
    t.match(lines[2], /^mcuser \(you\)\s+administrator\s+\d{4}-\d\d-\d\d/)
    const json = await cli(`${ADMIN_PW}\n`, 'user', 'list', '--json')
    t.same(
      JSON.parse(json.out).users.map((u: { user: string; role: string; self: boolean }) => [u.user, u.role, u.self]),
      [
        ['bob', 'operator', false],
        ['mcuser', 'admin', true],
      ],
    )
    const ko = await cli(`${ADMIN_PW}\n`, 'user', 'list', '--lang', 'ko')
    t.match(ko.out, /^사용자 ID\s+역할/, 'the table in Korean')
    t.match(ko.out, /bob\s+운영자\s+\d{4}\. \d\d\. \d\d\. \d\d:\d\d:\d\d/, 'with the Korean date format')

    const forbidden = await cli(`${BOB_PW}\n`, 'user', 'list', '--as', 'bob')
    t.equal(forbidden.code, 3)
    t.match(forbidden.err, /MCCS_ERR_FORBIDDEN: .*only an administrator/)
    const forbiddenKo = await cli(`${BOB_PW}\ncarol-x\n`, 'user', 'delete', 'mcuser', '--as', 'bob', '--lang', 'ko')
    t.equal(forbiddenKo.code, 3)
    t.match(forbiddenKo.err, /^mccs user: [^\n]*[가-힣][^\n]* — MCCS_ERR_FORBIDDEN/, 'the error line with its Korean title')

    const self = await cli(`${ADMIN_PW}\n`, 'user', 'delete', 'mcuser')
    t.equal(self.code, 3)
    t.match(self.err, /MCCS_ERR_CONFLICT: mcuser \/user: you cannot delete the account you are logged in with/)
    const missing = await cli(`${ADMIN_PW}\n`, 'user', 'delete', 'nobody')
    t.equal(missing.code, 3)
    t.match(missing.err, /MCCS_ERR_NOT_FOUND/)

    const bobPw = await cli(`${BOB_PW}\nOther-pass3!ok\n`, 'user', 'passwd', 'bob', '--lang', 'ko')
    t.equal(bobPw.code, 0, bobPw.err)
    t.equal(bobPw.out.trim(), 'bob의 비밀번호를 바꿨습니다. 이 사용자의 다른 세션은 종료되었습니다.')

    const del = await cli(`${ADMIN_PW}\n`, 'user', 'delete', 'bob')
    t.equal(del.code, 0, del.err)
    t.match(del.out, /^Account bob deleted; its sessions ended on every node\./)
    const users = JSON.parse(await readFile(accountsFile, 'utf8')).users
    t.same(Object.keys(users), ['mcuser'])
    const oplog = await readFile(path.join(b.logDir, 'operation.log'), 'utf8')
    t.match(oplog, /"command":"userAdd".*"target":"bob".*"result":"done"/, "the change is in the operation log like the console's")
    t.match(oplog, /"command":"userDelete".*"target":"bob".*"result":"done"/)
  })

  // On a terminal (util-linux `script` gives the command a pty): prompts, no echo, the rules shown first,
  // the new password typed twice. Each answer is sent only once its prompt is shown, as a person types.
  const onTerminal = async (args: string[], answers: Array<[RegExp, string]>) => {
    const cmd = [bin, ...args].map((a) => `'${a}'`).join(' ')
    const p = spawn('script', ['-qec', cmd, '/dev/null'], { env, stdio: ['pipe', 'pipe', 'pipe'] })
    let out = ''
    let next = 0
    p.stdout.on('data', (d) => {
      out += d
      while (next < answers.length && answers[next]![0].test(out)) {
        p.stdin.write(`${answers[next]![1]}\r`)
        next++
      }
    })
    const code = await new Promise<number>((resolve) => p.on('close', (c) => resolve(c ?? 1)))
    return { code, out, answered: next }
  }
  await t.test('on a terminal: prompts without echo, the rules first, the new password twice', { skip: whichScript() }, async (t) => {
    const list = await onTerminal(['user', 'list'], [[/Password of mcuser \(to log in\): $/, ADMIN_PW]])
    t.equal(list.code, 0, list.out)
    t.match(list.out, /mcuser \(you\)\s+administrator/)
    t.notOk(list.out.includes(ADMIN_PW), 'the password is not echoed')

    const before = await readFile(accountsFile, 'utf8')
    const differ = await onTerminal(
      ['user', 'add', 'carol'],
      [
        [/Password of mcuser \(to log in\): $/, ADMIN_PW],
        [/New password for carol: $/, 'Tty-Secret9!xy'],
        [/New password again: $/, 'Tty-Secret9!xz'],
      ],
    )
    t.equal(differ.answered, 3)
    t.equal(differ.code, 2, differ.out)
    t.match(
      differ.out,
      /Password rules\r?\n {2}- a lowercase letter \(a-z\)[\s\S]*does not contain the user ID \(carol\)/,
      'the rules before the prompt',
    )
    t.match(differ.out, /The two new passwords differ\./)
    t.equal(await readFile(accountsFile, 'utf8'), before, 'nothing added')

    const ko = await onTerminal(
      ['user', 'add', 'carol', '--lang', 'ko'],
      [
        [/mcuser의 비밀번호 \(로그인\): $/, ADMIN_PW],
        [/carol의 새 비밀번호: $/, 'Tty-Secret9!xy'],
        [/새 비밀번호 다시 입력: $/, 'Tty-Secret9!xy'],
      ],
    )
    t.equal(ko.code, 0, ko.out)
    t.match(ko.out, /비밀번호 규칙/)
    t.match(ko.out, /계정 carol을\(를\) 추가했습니다 \(운영자\)/)
    t.notOk(ko.out.includes('Tty-Secret9'), 'not echoed')
    const del = await cli(`${ADMIN_PW}\n`, 'user', 'delete', 'carol')
    t.equal(del.code, 0, del.err)
  })

  await t.test("a server without this node's console certificate gets no password", async (t) => {
    const logFile = path.join(b.logDir, 'mccs.log')
    const logins = async () => ((await readFile(logFile, 'utf8')).match(/console login\b/g) ?? []).length
    const before = await logins()
    const real = await consoleTarget(b, { ...ta.env })
    t.equal(real.port, port)
    t.same(real.hosts, ['127.0.0.1'], 'the default listen address (0.0.0.0) is tried on loopback')
    // A console set to listen on one outside address binds 127.0.0.1 while the shipped password is left.
    t.same(consoleHosts(['192.0.2.7']), ['127.0.0.1', '192.0.2.7'])
    t.same(consoleHosts(['::', '10.0.0.1', '127.0.0.2']), ['127.0.0.2', '::1', '10.0.0.1'])
    let asked = 0
    const out: string[] = []
    const code = await userCommand(
      ['list'],
      b,
      { json: false },
      { out: (s) => out.push(s), err: (s) => out.push(s) },
      {
        target: { ...real, pin: real.pin.replace(/^.{2}/, (x) => (x === '00' ? '11' : '00')) },
        secrets: {
          terminal: false,
          ask: async () => {
            asked++
            return ADMIN_PW
          },
        },
      },
    )
    t.equal(code, 1)
    t.match(out.join('\n'), /MCCS_ERR_TLS_MATERIAL: .*presented another certificate/)
    t.equal(asked, 1, 'the password was read, but the connection ended before anything was sent')
    await new Promise((r) => setTimeout(r, 300))
    t.equal(await logins(), before, 'no login reached the console')
    t.ok(before > 0, `the log does record logins (${before} so far)`)
  })
})
