import type { FastifyReply } from 'fastify'
import { AuthInvalidRequestError, AuthRequiredError, InsufficientScopeError, InvalidTokenError, JwksUnavailableError } from '../../lib/errors.js'

/** An answer ready to send: status, headers and the body in Fastify's error shape. */
export interface Answer {
  status: number
  headers: Record<string, string>
  body: string
}

function body (status: number, code: string, error: string, message: string): string {
  return JSON.stringify({ statusCode: status, code, error, message })
}

/** RFC 6750 §3 answers for one realm; the token itself never appears in them. */
export class Answers {
  readonly required: Answer
  readonly #challenge: string
  readonly #invalidToken = new Map<string, Answer>()

  constructor (realm: string) {
    this.#challenge = `Bearer realm="${realm}"`
    // §3.1: a request with no credentials gets no error code, just the challenge.
    this.required = {
      status: 401,
      headers: { 'www-authenticate': this.#challenge },
      body: body(401, 'FST_RAMPART_AUTH_REQUIRED', 'Unauthorized', new AuthRequiredError().message),
    }
  }

  invalidRequest (reason: string): Answer {
    return {
      status: 400,
      headers: { 'www-authenticate': `${this.#challenge}, error="invalid_request"` },
      body: body(400, 'FST_RAMPART_AUTH_INVALID_REQUEST', 'Bad Request', new AuthInvalidRequestError(reason).message),
    }
  }

  /** Reasons come from a fixed set of short strings, so the answers are built once each. */
  invalidToken (reason: string): Answer {
    let answer = this.#invalidToken.get(reason)
    if (answer === undefined) {
      answer = {
        status: 401,
        headers: { 'www-authenticate': `${this.#challenge}, error="invalid_token", error_description="${reason}"` },
        body: body(401, 'FST_RAMPART_INVALID_TOKEN', 'Unauthorized', new InvalidTokenError(reason).message),
      }
      this.#invalidToken.set(reason, answer)
    }
    return answer
  }

  insufficientScope (needed: string): Answer {
    return {
      status: 403,
      headers: { 'www-authenticate': `${this.#challenge}, error="insufficient_scope", scope="${needed}"` },
      body: body(403, 'FST_RAMPART_INSUFFICIENT_SCOPE', 'Forbidden', new InsufficientScopeError(needed).message),
    }
  }

  unavailable (retryAfterSeconds: number): Answer {
    return {
      status: 503,
      headers: { 'retry-after': String(retryAfterSeconds) },
      body: body(503, 'FST_RAMPART_JWKS_UNAVAILABLE', 'Service Unavailable', new JwksUnavailableError(retryAfterSeconds).message),
    }
  }
}

/**
 * A route the plugin never saw in onRoute (added before it finished
 * registering) that has its own `config.security.jwt`: its scopes, issuers or
 * `false` were never applied, so no request is let through. The code is the
 * one the ready() check gives the same mistake when it can see it.
 */
export const ROUTE_CONFIG_UNREAD: Answer = {
  status: 500,
  headers: {},
  body: body(500, 'FST_RAMPART_INVALID_ROUTE_CONFIG', 'Internal Server Error', "This route's bearer token settings were never applied"),
}

/** Sent, not thrown: an app's error handler cannot turn a refusal into a 500 or drop its challenge. */
export function send (reply: FastifyReply, answer: Answer): FastifyReply {
  return reply.code(answer.status).headers(answer.headers).type('application/json; charset=utf-8').send(answer.body)
}
