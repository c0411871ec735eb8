// GET /metrics: the Prometheus text format, behind a bearer token (`mccs metrics token create`; only its
// hash is stored, core/console/metrics/token.ts). Not a session route: a scraper has no session, and a
// refused scrape touches nothing (no session, no counter, no log line an attacker could flood). The
// work is bounded: concurrent scrapes share one gathering, the status is the one `mccs status` uses
// (a follower asks the coordinator, 5 s at most), and each mirror disk's status gets MIRROR_BOUND_MS.
import type { FastifyInstance } from 'fastify'
import { MccsError } from '../../errors.js'
import type { AwsEc2Provider } from '../../plugins/caps/aws-ec2.js'
import type { VolumeStatus } from '../../mirror/volume.js'
import { CONTENT_TYPE } from '../metrics/exposition.js'
import { renderMetrics, type AwsCounters } from '../metrics/collect.js'
import { EngineCounters } from '../metrics/observer.js'
import { checkMetricsToken, type TokenCheck } from '../metrics/token.js'
import type { RouteDeps } from './deps.js'

const MIRROR_BOUND_MS = 1000

const REFUSAL: Record<Exclude<TokenCheck, 'ok'>, string> = {
  missing: 'send the metrics token in the Authorization header (Authorization: Bearer <token>; make one with mccs metrics token create)',
  malformed: 'the Authorization header must be "Bearer <token>" with a token from mccs metrics token create',
  wrong: 'the metrics token is not the one in force on this node (mccs metrics token create makes a new one)',
  'none-configured': 'no metrics token is configured on this node: make one with mccs metrics token create',
}

function within<T>(p: Promise<T>, ms: number): Promise<T | null> {
  return new Promise((resolve) => {
    const t = setTimeout(() => resolve(null), ms)
    p.then(
      (v) => {
        clearTimeout(t)
        resolve(v)
      },
      () => {
        clearTimeout(t)
        resolve(null)
      },
    )
  })
}

export function registerMetricsRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const { agent } = deps
  const configDir = agent.opts.bootstrap.configDir
  const counters = new EngineCounters(agent)
  app.addHook('onClose', async () => counters.close())

  const gather = async (): Promise<string> => {
    const t0 = performance.now()
    const status = await agent.statusAnywhere()
    const p = agent.host.provider('aws.ec2') as AwsEc2Provider | undefined
    const aws: AwsCounters | null =
      p && typeof p.apiCalls === 'function' ? { apiCalls: p.apiCalls(), retries: p.retries(), throttles: p.throttles() } : null
    const mirrors = await Promise.all(
      agent.mirror.resources().map(async (resource) => {
        let v: ReturnType<typeof agent.mirror.known> = null
        try {
          v = agent.mirror.known(resource)
        } catch {
          /* not in a cluster: no volume here */
        }
        return { resource, status: v ? await within<VolumeStatus>(v.status(), MIRROR_BOUND_MS) : null }
      }),
    )
    return renderMetrics({
      status,
      counters,
      aws,
      mirrors,
      timelineFailures: agent.timeline.failures,
      gatherS: (performance.now() - t0) / 1000,
    })
  }
  let inFlight: Promise<string> | null = null

  app.get(
    '/metrics',
    {
      // Outside /api and its session guard; documented in docs/metrics.md rather than the OpenAPI document.
      config: { auth: 'metrics-token', hidden: true },
    },
    async (req, reply) => {
      const check = await checkMetricsToken(configDir, req.headers.authorization)
      if (check !== 'ok') {
        reply.header('www-authenticate', 'Bearer realm="mccs-metrics"')
        throw new MccsError('MCCS_ERR_UNAUTHENTICATED', REFUSAL[check], { field: 'authorization' })
      }
      inFlight ??= gather().finally(() => {
        inFlight = null
      })
      const text = await inFlight
      reply.header('cache-control', 'no-store').type(CONTENT_TYPE)
      return text
    },
  )
}
