// The route modules the console registers, in order. One line per module: the support and license
// routes (core/console/routes/support.ts, licenses.ts) are added here the same way.
import type { RouteModule } from './deps.js'

export const ROUTE_MODULES: Array<() => Promise<RouteModule>> = [
  async () => (await import('./auth.js')).registerAuthRoutes,
  async () => (await import('./read.js')).registerReadRoutes,
  async () => (await import('./types.js')).registerTypeRoutes,
  async () => (await import('./actions.js')).registerActionRoutes,
  async () => (await import('./config-edit.js')).registerConfigRoutes,
  async () => (await import('./events.js')).registerEventRoutes,
  async () => (await import('./console-page.js')).registerConsolePageRoutes,
  async () => (await import('./support.js')).registerSupportRoutes,
  async () => (await import('./licenses.js')).registerLicenseRoutes,
  async () => (await import('./metrics.js')).registerMetricsRoutes,
  async () => (await import('./log-level.js')).registerLogLevelRoutes,
  async () => (await import('./hb.js')).registerHbRoutes,
  async () => (await import('./timeline.js')).registerTimelineRoutes,
  async () => (await import('./help.js')).registerHelpRoutes,
  async () => (await import('./aws.js')).registerAwsRoutes,
  async () => (await import('./users.js')).registerUserRoutes,
  async () => (await import('./mirror.js')).registerMirrorRoutes,
]
