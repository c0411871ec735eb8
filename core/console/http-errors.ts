// One error shape for every answer of the console's HTTP API:
//   HTTP status + { "error": { "code": "MCCS_ERR_…", "message": "…", "field"?: "/json/pointer" } }
// MccsError codes map to statuses here; fastify's own errors (validation, bad JSON, body too large)
// are translated into the same shape.
import type { FastifyError, FastifyReply } from 'fastify'
import { MccsError, isMccsError, type ErrorCode } from '../errors.js'
import { explainErrors } from '../config/ajv.js'
import type { ErrorObject } from 'ajv'

const STATUS: Partial<Record<ErrorCode, number>> = {
  MCCS_ERR_INVALID: 400,
  MCCS_ERR_NOT_FOUND: 404,
  MCCS_ERR_CONFLICT: 409,
  MCCS_ERR_CONFIG_GENERATION: 409,
  MCCS_ERR_CONFIG_SYNTAX: 400,
  MCCS_ERR_CONFIG_SCHEMA: 400,
  MCCS_ERR_CONFIG_REF: 400,
  MCCS_ERR_CONFIG_DUPLICATE: 400,
  MCCS_ERR_CONFIG_DEPENDENCY: 400,
  MCCS_ERR_CONFIG_ATTRS: 400,
  MCCS_ERR_CONFIG_INVALID: 400,
  MCCS_ERR_DEP_CYCLE: 400,
  MCCS_ERR_DEP_GROUP: 400,
  MCCS_ERR_UNAUTHENTICATED: 401,
  MCCS_ERR_LOGIN_FAILED: 401,
  MCCS_ERR_RATE_LIMITED: 429,
  MCCS_ERR_ACCOUNT_LOCKED: 429,
  MCCS_ERR_TOO_LARGE: 413,
  MCCS_ERR_BUSY: 503,
  MCCS_ERR_CSRF: 403,
  MCCS_ERR_PASSWORD_CHANGE_REQUIRED: 403,
  MCCS_ERR_PASSWORD_RULE: 400,
  MCCS_ERR_PASSWORD_REUSED: 400,
  MCCS_ERR_NOT_IMPLEMENTED: 501,
  MCCS_ERR_PEER_UNREACHABLE: 503,
  MCCS_ERR_PEER_TIMEOUT: 504,
  MCCS_ERR_PEER_PROTOCOL: 502,
}

export function statusOf(code: string): number {
  return STATUS[code as ErrorCode] ?? 500
}

export interface ErrorBody { error: { code: string; message: string; field?: string; subject?: string }; issues?: Array<{ field: string; message: string }> }

/** The reason of an MccsError without its "CODE: subject field: " prefix. */
export function reasonOf(e: MccsError): string {
  const where = [e.subject, e.field].filter(Boolean).join(' ')
  const prefix = `${e.code}: ${where ? where + ': ' : ''}`
  return e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message
}

export function errorBody(code: string, message: string, field?: string, extra: Partial<ErrorBody> = {}): ErrorBody {
  return { error: { code, message, ...(field !== undefined ? { field } : {}) }, ...extra }
}

/** fastify validation errors carry ajv's errors; the first one names the field (a JSON pointer into the
 *  body, or /params/<name> and /query/<name> for path and query parameters). */
export function validationBody(err: FastifyError & { validation?: ErrorObject[]; validationContext?: string }): ErrorBody {
  const [first] = explainErrors(err.validation ?? [])
  const part = err.validationContext ?? 'body'
  const prefix = part === 'body' ? '' : part === 'querystring' ? '/query' : `/${part}`
  const field = `${prefix}${first?.path ?? ''}` || '/'
  return errorBody('MCCS_ERR_INVALID', first ? `${field}: ${first.reason}` : err.message, field)
}

export function sendError(reply: FastifyReply, err: unknown): FastifyReply {
  if (isMccsError(err)) {
    return reply.code(statusOf(err.code)).send(errorBody(err.code, reasonOf(err), err.field, err.subject ? { error: { code: err.code, message: reasonOf(err), ...(err.field !== undefined ? { field: err.field } : {}), subject: err.subject } } : {}))
  }
  const fe = err as FastifyError & { validation?: ErrorObject[] }
  if (fe?.validation) return reply.code(400).send(validationBody(fe))
  if (fe?.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    const limit = reply.request.routeOptions.bodyLimit
    return reply.code(413).send(errorBody('MCCS_ERR_TOO_LARGE', `the body is larger than ${limit} bytes, the most this route takes`, '/'))
  }
  if (fe?.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || fe?.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') {
    return reply.code(400).send(errorBody('MCCS_ERR_INVALID', fe.code === 'FST_ERR_CTP_EMPTY_JSON_BODY' ? 'the body is empty; send a JSON object' : 'the body is not valid JSON (a key named __proto__ or constructor.prototype counts as invalid)', '/'))
  }
  if (fe?.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
    return reply.code(415).send(errorBody('MCCS_ERR_INVALID', 'send the body as application/json', '/headers/content-type'))
  }
  if (typeof fe?.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return reply.code(fe.statusCode).send(errorBody(fe.statusCode === 404 ? 'MCCS_ERR_NOT_FOUND' : 'MCCS_ERR_INVALID', fe.message))
  }
  return reply.code(500).send(errorBody('MCCS_ERR_INTERNAL', 'internal error (see the agent log)'))
}
