// One error shape for every answer of the console's HTTP API:
//   HTTP status + { "error": { "code": "MCCS_ERR_…", "message": "…", "field"?: "/json/pointer" } }
// The status of a code is its catalogue entry's (core/errors.ts); fastify's own errors (validation,
// bad JSON, body too large) are translated into the same shape.
import type { FastifyError, FastifyReply } from 'fastify'
import { MccsError, isErrorCode, isMccsError, messageOf, statusOf, type ErrorCode } from '../errors.js'
import type { Locale } from '../i18n/messages.js'
import { explainErrors } from '../config/ajv.js'
import type { ErrorObject } from 'ajv'

/** The status of a code: the catalogue's (core/errors.ts), the one place that maps codes to statuses. */
export { statusOf }

export interface ErrorBody {
  error: { code: string; message: string; field?: string; subject?: string }
  issues?: Array<{ field: string; message: string }>
}

/** The reason of an MccsError, without its "CODE: subject field: " prefix. */
export function reasonOf(e: MccsError): string {
  return e.reason
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

/** An error body for a caller of another language: the code's catalogue message in that language leads,
 *  the reason (which names the field and the values) follows; code, field and subject are unchanged. */
export function localizeErrorBody(payload: unknown, lang: Locale): unknown {
  const err = (payload as Partial<ErrorBody> | null)?.error
  if (!err || typeof err.message !== 'string' || !isErrorCode(err.code)) return payload
  return { ...(payload as ErrorBody), error: { ...err, message: `${messageOf(err.code, lang)} — ${err.message}` } }
}

/** Answers an error body with its code's status. */
export function replyError(
  reply: FastifyReply,
  code: ErrorCode,
  message: string,
  field?: string,
  extra: Partial<ErrorBody> = {},
): FastifyReply {
  return reply.code(statusOf(code)).send(errorBody(code, message, field, extra))
}

export function sendError(reply: FastifyReply, err: unknown): FastifyReply {
  if (isMccsError(err)) {
    return replyError(
      reply,
      err.code,
      err.reason,
      err.field,
      err.subject
        ? { error: { code: err.code, message: err.reason, ...(err.field !== undefined ? { field: err.field } : {}), subject: err.subject } }
        : {},
    )
  }
  const fe = err as FastifyError & { validation?: ErrorObject[] }
  if (fe?.validation) return reply.code(statusOf('MCCS_ERR_INVALID')).send(validationBody(fe))
  if (fe?.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    const limit = reply.request.routeOptions.bodyLimit
    return replyError(reply, 'MCCS_ERR_TOO_LARGE', `the body is larger than ${limit} bytes, the most this route takes`, '/')
  }
  if (fe?.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || fe?.code === 'FST_ERR_CTP_EMPTY_JSON_BODY') {
    return replyError(
      reply,
      'MCCS_ERR_INVALID',
      fe.code === 'FST_ERR_CTP_EMPTY_JSON_BODY'
        ? 'the body is empty; send a JSON object'
        : 'the body is not valid JSON (a key named __proto__ or constructor.prototype counts as invalid)',
      '/',
    )
  }
  // fastify's own client errors keep fastify's status (415 for a body that is not JSON, 405, ...).
  if (fe?.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' && typeof fe.statusCode === 'number') {
    return reply.code(fe.statusCode).send(errorBody('MCCS_ERR_INVALID', 'send the body as application/json', '/headers/content-type'))
  }
  if (typeof fe?.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return reply
      .code(fe.statusCode)
      .send(errorBody(fe.statusCode === statusOf('MCCS_ERR_NOT_FOUND') ? 'MCCS_ERR_NOT_FOUND' : 'MCCS_ERR_INVALID', fe.message))
  }
  return replyError(reply, 'MCCS_ERR_INTERNAL', 'internal error (see the agent log)')
}
