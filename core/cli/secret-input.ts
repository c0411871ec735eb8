// Passwords for the CLI, never from its command line (it shows in `ps` and the shell's history): asked on
// the terminal without echo, or, when stdin is not a terminal (a script, a pipe), read from stdin one line
// per password in the order the command asks for them.
import { MccsError } from '../errors.js'

/** Where a command's passwords come from; `ask` answers the next one (the prompt shows on a terminal only). */
export interface SecretSource {
  readonly terminal: boolean
  ask(prompt: string, what: string): Promise<string>
}

/** More than any set of passwords a command asks for (each at most 256 characters). */
const MAX_STDIN = 64 * 1024

export function secretSource(input: NodeJS.ReadStream = process.stdin, prompts: NodeJS.WriteStream = process.stderr): SecretSource {
  if (input.isTTY && typeof input.setRawMode === 'function') return terminalSource(input, prompts)
  let lines: Promise<string[]> | null = null
  let next = 0
  return {
    terminal: false,
    async ask(_prompt, what) {
      lines ??= readAll(input).then((text) => text.split('\n').map((l) => l.replace(/\r$/, '')))
      const all = await lines
      // The text after the last newline counts as a line only when it is not empty (`printf 'pw'` works too).
      const usable = all.length > 0 && all[all.length - 1] === '' ? all.length - 1 : all.length
      if (next >= usable)
        throw new MccsError('MCCS_ERR_INVALID', `stdin ended before the ${what} (one password per line, in the order asked)`, {
          field: 'stdin',
        })
      return all[next++]!
    },
  }
}

async function readAll(input: NodeJS.ReadableStream): Promise<string> {
  let text = ''
  for await (const chunk of input) {
    text += typeof chunk === 'string' ? chunk : (chunk as Buffer).toString('utf8')
    if (text.length > MAX_STDIN) throw new MccsError('MCCS_ERR_TOO_LARGE', `more than ${MAX_STDIN} bytes on stdin`, { field: 'stdin' })
  }
  return text
}

/** Raw mode, no echo; Enter ends the line, Backspace takes a character back, Ctrl-C and Ctrl-D give up. */
function terminalSource(input: NodeJS.ReadStream, prompts: NodeJS.WriteStream): SecretSource {
  return {
    terminal: true,
    ask: (prompt, what) =>
      new Promise((resolve, reject) => {
        let typed = ''
        const done = (err: Error | null) => {
          input.off('data', onData)
          input.setRawMode(false)
          input.pause()
          prompts.write('\n')
          if (err) reject(err)
          else resolve(typed)
        }
        const onData = (chunk: Buffer | string) => {
          for (const ch of typeof chunk === 'string' ? chunk : chunk.toString('utf8')) {
            if (ch === '\r' || ch === '\n') return done(null)
            if (ch === '\u0003' || ch === '\u0004')
              return done(new MccsError('MCCS_ERR_CANCELLED', `no ${what} given`, { field: 'terminal' }))
            if (ch === '\u007f' || ch === '\b') typed = [...typed].slice(0, -1).join('')
            else if (ch >= ' ') typed += ch
            if (typed.length > MAX_STDIN) return done(new MccsError('MCCS_ERR_TOO_LARGE', `the ${what} is too long`, { field: 'terminal' }))
          }
        }
        // Echo off before the prompt shows: an answer typed the moment it appears is not echoed either.
        input.setRawMode(true)
        prompts.write(prompt)
        input.resume()
        input.on('data', onData)
      }),
  }
}
