// mccs license: this node's license (manual 5.4).
//   show [--json]                      valid, or limited mode with the reason
//   install <file>                     check (form, signature, node, host id, expiry) and install
//   keygen --out <key> [--trust]       an operator Ed25519 key pair (open builds); --trust adds the
//                                      public key to <configDir>/license-keys.pem
//   issue --key <key> --node N [--type term|nodelock] [--days 30 | --expires DATE] [--host-id ANY|MAC]
//         [--licensee TEXT] [--out file]   sign a license with a private key
import { generateKeyPairSync } from 'node:crypto'
import { appendFile, readFile, writeFile, mkdir } from 'node:fs/promises'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { loadBootstrap, type Bootstrap } from '../config/bootstrap.js'
import { MccsError, isMccsError } from '../errors.js'
import { issueLicense, LICENSE_TYPES, type LicenseType } from '../license/format.js'
import { installLicense, nodeLicenseView, readLicenseFile, TRUSTED_KEYS_FILE, type LicenseView } from '../license/store.js'
import { rpc } from './control-client.js'
import type { AgentStatus } from '../agent/status.js'
import { EXIT, exitOf } from './exit-codes.js'
import type { CliIO } from './io.js'
import { t, say } from '../i18n/messages.js'
import { cliLocale } from './lang.js'

/** The usage text in English; the command prints it in the caller's language. */
export const LICENSE_USAGE = t('en', 'cli.license.usage')

export async function licenseCommand(argv: string[], io: CliIO, b?: Bootstrap): Promise<number> {
  // The language of what it says (--lang, MCCS_LANG, the product's); keygen and issue also run on a host never
  // set up (the operator's own machine), which speaks English.
  const langOf = (flag: unknown) => cliLocale(flag, async () => (b ?? (await loadBootstrap())).configDir).catch(() => 'en' as const)
  let parsed
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        json: { type: 'boolean' },
        out: { type: 'string' },
        key: { type: 'string' },
        node: { type: 'string' },
        type: { type: 'string' },
        days: { type: 'string' },
        expires: { type: 'string' },
        'host-id': { type: 'string' },
        licensee: { type: 'string' },
        trust: { type: 'boolean' },
        server: { type: 'string' },
        count: { type: 'string' },
        lang: { type: 'string' },
      },
    })
  } catch (e) {
    io.err(`mccs license: ${(e as Error).message}\n${t(await langOf(undefined), 'cli.license.usage')}`)
    return EXIT.USAGE
  }
  const {
    values: v,
    positionals: [sub, ...rest],
  } = parsed
  try {
    switch (sub) {
      case 'show':
      case undefined: {
        const bb = b ?? (await loadBootstrap())
        // The running agent's judgement when it runs (its seat, its checks); else what is on disk.
        const live = await rpc<AgentStatus>(bb.controlSocket, 'status', {}, 5000)
          .then((s) => s.licenses?.[bb.nodeName])
          .catch(() => undefined)
        const { checkedAt: _, ...fromAgent } = live ?? { checkedAt: '' }
        const view: LicenseView = live ? (fromAgent as LicenseView) : await nodeLicenseView(bb)
        if (v.json) {
          io.out(JSON.stringify(view, null, 2))
          return EXIT.OK
        }
        const l = await cliLocale(v.lang, async () => bb.configDir)
        io.out(
          t(l, view.valid ? 'cli.license.licensed' : 'cli.license.limited', { node: view.node }) +
            '\n' +
            t(l, 'cli.license.line', {
              type: view.type ?? '-',
              hostId: view.hostId ?? '-',
              expires: view.expires ?? (view.type ? t(l, 'cli.license.never') : '-'),
            }) +
            (view.daysLeft != null ? t(l, 'cli.license.daysLeft', { days: view.daysLeft }) : '') +
            (view.server ? t(l, 'cli.license.server', { server: view.server }) : '') +
            (view.licensee ? t(l, 'cli.license.licensee', { licensee: view.licensee }) : '') +
            (view.reason ? '\n' + t(l, 'cli.license.reason', { reason: say(l, view.said, view.reason) }) : '') +
            (view.warning ? '\n' + t(l, 'cli.license.warning', { warning: say(l, view.warningSaid, view.warning) }) : ''),
        )
        return EXIT.OK
      }
      case 'install': {
        if (rest.length !== 1) {
          io.err(t(await langOf(v.lang), 'cli.license.usage'))
          return EXIT.USAGE
        }
        const bb = b ?? (await loadBootstrap())
        const l = await installLicense(bb, await readLicenseFile(rest[0]!, '<file>'))
        const lang = await cliLocale(v.lang, async () => bb.configDir)
        io.out(
          t(lang, 'cli.license.installed', {
            node: bb.nodeName,
            type: l.type,
            hostId: l.hostId,
            expires: l.expires ? t(lang, 'cli.license.expires', { date: l.expires }) : t(lang, 'cli.license.noExpiry'),
          }),
        )
        // A running agent takes it at once (not at its next check); a stopped one reads it when it starts.
        const now = await rpc<LicenseView>(bb.controlSocket, 'license.check', {}, 10_000).catch(() => undefined)
        if (now)
          io.out(
            now.valid
              ? t(lang, 'cli.license.agentLicensed')
              : t(lang, 'cli.license.agentLimited', { reason: say(lang, now.said, now.reason ?? '') }),
          )
        return EXIT.OK
      }
      case 'keygen': {
        if (!v.out) throw new MccsError('MCCS_ERR_INVALID', 'names the private key file to write', { field: '--out' })
        const { publicKey, privateKey } = generateKeyPairSync('ed25519')
        await mkdir(path.dirname(path.resolve(v.out)), { recursive: true })
        await writeFile(v.out, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600, flag: 'wx' })
        const pub = publicKey.export({ type: 'spki', format: 'pem' }) as string
        await writeFile(`${v.out}.pub`, pub, { flag: 'wx' })
        const l = await langOf(v.lang)
        io.out(t(l, 'cli.license.keygenWrote', { key: v.out, pub: `${v.out}.pub` }))
        if (v.trust) {
          const bb = b ?? (await loadBootstrap())
          await mkdir(bb.configDir, { recursive: true })
          await appendFile(path.join(bb.configDir, TRUSTED_KEYS_FILE), pub, { mode: 0o644 })
          io.out(t(l, 'cli.license.trusted', { file: path.join(bb.configDir, TRUSTED_KEYS_FILE) }))
        }
        return EXIT.OK
      }
      case 'issue': {
        if (!v.key) throw new MccsError('MCCS_ERR_INVALID', 'names the Ed25519 private key (PEM) to sign with', { field: '--key' })
        if (!v.node) throw new MccsError('MCCS_ERR_INVALID', 'names the node the license is for', { field: '--node' })
        const type = (v.type ?? 'term') as LicenseType
        if (!LICENSE_TYPES.includes(type))
          throw new MccsError('MCCS_ERR_LICENSE_TYPE', 'must be term, nodelock or floating', { field: '--type' })
        if (type === 'floating' && !v.server)
          throw new MccsError('MCCS_ERR_INVALID', 'a floating license names its license server as host:port', { field: '--server' })
        if (type === 'floating' && !v.count)
          throw new MccsError('MCCS_ERR_INVALID', 'a floating license names its seat count', { field: '--count' })
        const issued = new Date()
        let expires: string | undefined
        if (type === 'term') {
          if (v.expires) expires = v.expires
          else {
            const days = Number(v.days ?? 30)
            if (!Number.isInteger(days) || days < 1 || days > 3650)
              throw new MccsError('MCCS_ERR_INVALID', 'must be a whole number of days, 1..3650', { field: '--days' })
            expires = new Date(issued.getTime() + days * 86_400_000).toISOString().replace(/\.\d+Z$/, 'Z')
          }
        }
        const text = issueLicense(
          {
            type,
            node: v.node,
            hostId: v['host-id'] ?? (type === 'nodelock' ? '' : 'ANY'),
            issued: issued.toISOString().replace(/\.\d+Z$/, 'Z'),
            ...(expires ? { expires } : {}),
            ...(v.licensee ? { licensee: v.licensee } : {}),
            ...(type === 'floating' ? { server: v.server!, count: Number(v.count) } : {}),
          },
          await readFile(v.key, 'utf8'),
        )
        if (v.out) {
          await writeFile(v.out, text)
          io.err(t(await langOf(v.lang), 'cli.license.issued', { node: v.node, file: v.out }))
        } else io.out(text.trimEnd())
        return EXIT.OK
      }
      default:
        io.err(t(await langOf(v.lang), 'cli.license.usage'))
        return EXIT.USAGE
    }
  } catch (e) {
    io.err(`mccs license ${sub ?? ''}: ${isMccsError(e) ? e.message : (e as Error).message}`)
    // A license the command cannot use is invalid input (6), as its catalogue entry says; anything else failed (1).
    return isMccsError(e) && (e.code === 'MCCS_ERR_INVALID' || exitOf(e.code, EXIT.FAILED) === EXIT.INVALID) ? EXIT.INVALID : EXIT.FAILED
  }
}
