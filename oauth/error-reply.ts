import type { FastifyReply } from 'fastify'

/** An RFC 6749 §5.2 error: what FST_RAMPART_OAUTH_* errors carry, or an object of your own. */
export interface OAuthErrorBody {
  error: string
  error_description?: string
}

// RFC 6749 §5.2 and Appendix A.7/A.8: the code is a fixed ASCII token and
// the description printable ASCII without `"` or `\`; anything else is not
// an OAuth error this helper may put on the wire.
const ERROR_CODE = /^[\x20\x21\x23-\x5B\x5D-\x7E]+$/
const DESCRIPTION = /^[\x20\x21\x23-\x5B\x5D-\x7E]*$/

function isOAuthError (value: unknown): value is OAuthErrorBody {
  if (value === null || typeof value !== 'object') return false
  const { error, error_description: description } = value as Record<string, unknown>
  return typeof error === 'string' && ERROR_CODE.test(error) && (description === undefined || (typeof description === 'string' && DESCRIPTION.test(description)))
}

/**
 * Answers a token-endpoint error as RFC 6749 §5.2 asks: 400 (401 for
 * `invalid_client`), JSON `{ error, error_description }`, never cached. A
 * 401 to a client that authenticated with an `Authorization` header names
 * that scheme in `WWW-Authenticate`, as §5.2 requires. Anything that is not
 * an OAuth error (a store outage, a bug) is thrown again, for Fastify's
 * error handler to log and answer 500: never dressed up as the client's
 * fault.
 */
export function oauthErrorReply (reply: FastifyReply, error: unknown): FastifyReply {
  if (!isOAuthError(error)) throw error
  const status = error.error === 'invalid_client' ? 401 : 400
  const body: OAuthErrorBody = { error: error.error }
  if (error.error_description !== undefined) body.error_description = error.error_description
  reply.code(status).header('cache-control', 'no-store').type('application/json; charset=utf-8')
  const authorization = reply.request.headers.authorization
  if (status === 401 && typeof authorization === 'string') {
    const scheme = /^[A-Za-z0-9!#$%&'*+.^_`|~-]+/.exec(authorization)?.[0] ?? 'Basic'
    reply.header('www-authenticate', `${scheme} realm="token"`)
  }
  return reply.send(body)
}
