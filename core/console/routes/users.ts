// GET /api/users, POST /api/users, DELETE /api/users/:user: console accounts managed by an administrator
// (issue 18, What 4). A change goes through the one replicated account store (auth/accounts.ts, and in a
// cluster core/agent/account-sync.ts), so every node takes it; a deleted user's sessions end everywhere
// with the reason `userDeleted`.
import type { FastifyInstance } from 'fastify'
import { MccsError } from '../../errors.js'
import { ACCOUNT_ROLES, roleOf, type AccountRole } from '../auth/accounts.js'
import { audited } from '../audit.js'
import type { RouteDeps } from './deps.js'
import { sessionOf } from './deps.js'

/** A user id, a 256-character password and a role: 4 KiB as for the other password routes. */
const SMALL_BODY = 4096

export function registerUserRoutes(app: FastifyInstance, deps: RouteDeps): void {
  const needAdmin = (user: string) => {
    if (!deps.accounts.isAdmin(user))
      throw new MccsError('MCCS_ERR_FORBIDDEN', 'only an administrator may list, add or delete accounts', { subject: user })
  }

  app.get(
    '/api/users',
    { schema: { summary: 'The console accounts (administrators only): id, role, when the password was last set' } },
    async (req) => {
      const me = sessionOf(req).user
      needAdmin(me)
      return {
        users: deps.accounts
          .users()
          .sort()
          .map((user) => {
            const a = deps.accounts.get(user)!
            return { user, role: roleOf(a), changedAt: a.changedAt, self: user === me }
          }),
      }
    },
  )

  app.post<{ Body: { user: string; password: string; role?: AccountRole } }>(
    '/api/users',
    {
      bodyLimit: SMALL_BODY,
      schema: {
        summary: 'Add a console account (administrators only): password by the rules of docs/console.md, never containing the id',
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['user', 'password'],
          properties: {
            user: { type: 'string', minLength: 1, maxLength: 64 },
            password: { type: 'string', maxLength: 256 },
            role: { type: 'string', enum: [...ACCOUNT_ROLES] },
          },
        },
      },
    },
    async (req, reply) => {
      const me = sessionOf(req).user
      const { user, password, role = 'operator' } = req.body
      await audited(deps.agent, { user: me, command: 'userAdd', target: user }, async () => {
        needAdmin(me)
        await deps.accounts.addUser(me, user, password, role)
      })
      deps.agent.log.log('info', 'console account added', { user: me, account: user, role })
      return reply.code(201).send({ user, role })
    },
  )

  app.delete<{ Params: { user: string } }>(
    '/api/users/:user',
    {
      bodyLimit: SMALL_BODY,
      schema: {
        summary:
          "Delete a console account (administrators only; not one's own, not the last administrator): its sessions end on every node",
        params: { type: 'object', required: ['user'], properties: { user: { type: 'string', minLength: 1, maxLength: 64 } } },
      },
    },
    async (req, reply) => {
      const me = sessionOf(req).user
      const user = req.params.user
      await audited(deps.agent, { user: me, command: 'userDelete', target: user }, async () => {
        needAdmin(me)
        await deps.accounts.deleteUser(me, user)
      })
      // In a cluster the adopted document ended them already; alone, nothing comes back: ended here.
      deps.sessions.destroyUser(user, undefined, 'userDeleted')
      deps.agent.log.log('info', 'console account deleted', { user: me, account: user })
      return reply.code(204).send()
    },
  )
}
