// mccs metrics token create|revoke|show: the bearer token a Prometheus scraper sends to GET /metrics on
// this node's console port. The token is printed once, on stdout only (put it in Prometheus'
// `authorization.credentials_file`); the node keeps only its SHA-256 (config/metrics-token.json).
import { loadBootstrap, type Bootstrap } from '../config/bootstrap.js'
import { createMetricsToken, metricsTokenInfo, revokeMetricsToken, tokenFile } from '../console/metrics/token.js'
import { EXIT } from './exit-codes.js'
import type { CliIO } from './io.js'
import { t, type Locale } from '../i18n/messages.js'

export const METRICS_USAGE = `usage: mccs metrics token create   a new token for GET /metrics (replaces the one in force; printed once)
       mccs metrics token show     whether a token is in force, and since when
       mccs metrics token revoke   remove it: every scrape is refused until a new one is made`

export async function metricsCommand(argv: string[], io: CliIO, b?: Bootstrap, l: Locale = 'en'): Promise<number> {
  const [what, sub, ...rest] = argv
  if (what !== 'token' || !sub || rest.length) {
    io.err(METRICS_USAGE)
    return what === 'help' ? EXIT.OK : EXIT.USAGE
  }
  const bb = b ?? (await loadBootstrap())
  switch (sub) {
    case 'create': {
      const token = await createMetricsToken(bb.configDir)
      io.out(token)
      io.err(t(l, 'cli.metrics.made', { node: bb.nodeName, file: tokenFile(bb.configDir) }))
      return EXIT.OK
    }
    case 'show': {
      const info = await metricsTokenInfo(bb.configDir)
      io.out(
        info
          ? t(l, 'cli.metrics.inForce', { node: bb.nodeName, created: info.created })
          : t(l, 'cli.metrics.noneScrape', { node: bb.nodeName }),
      )
      return EXIT.OK
    }
    case 'revoke': {
      const had = await revokeMetricsToken(bb.configDir)
      io.out(had ? t(l, 'cli.metrics.revoked', { node: bb.nodeName }) : t(l, 'cli.metrics.none', { node: bb.nodeName }))
      return EXIT.OK
    }
    default:
      io.err(METRICS_USAGE)
      return EXIT.USAGE
  }
}
