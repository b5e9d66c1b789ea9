import createError from '@fastify/error'

// Every error the suite can raise, in one place, so the README's table and
// the code cannot drift apart. Codes are stable: users switch on them.

/** Thrown from `register` when a plugin's options are invalid or unsafe. */
export const InvalidOptionsError = createError(
  'FST_RAMPART_INVALID_OPTIONS',
  'Invalid fastify-rampart options:\n%s',
  500
)

/** Thrown from `app.route()` (or `app.get()`, ...) when `config.security` is invalid. */
export const InvalidRouteConfigError = createError(
  'FST_RAMPART_INVALID_ROUTE_CONFIG',
  'Invalid config.security for route %s:\n%s',
  500
)

/** Sent (400) when a request's Host is malformed or not on the allowlist. */
export const UntrustedHostError = createError('FST_RAMPART_UNTRUSTED_HOST', 'Invalid host header', 400)

/** Sent (403, no CORS headers) when a CORS preflight is refused: origin, method or a header not allowed. */
export const CorsPreflightRefusedError = createError('FST_RAMPART_CORS_PREFLIGHT_REFUSED', 'CORS preflight refused', 403)

/** Sent (429) when a client is over its rate limit. */
export const RateLimitedError = createError('FST_RAMPART_RATE_LIMITED', 'Rate limit exceeded, retry in %s seconds', 429)

/** Sent (503) when the rate-limit store fails and `onStoreError` is `'closed'`. */
export const RateLimitUnavailableError = createError('FST_RAMPART_RATE_LIMIT_UNAVAILABLE', 'Service temporarily unavailable', 503)

export interface ProblemsError extends Error {
  code: string
  problems: string[]
}

/** Builds the options error with one problem per line and a `problems` array. */
export function invalidOptions (problems: string[]): ProblemsError {
  const err = new InvalidOptionsError(problems.join('\n')) as unknown as ProblemsError
  err.problems = problems
  return err
}

/** Builds the route-config error, naming the route as `METHOD /url`. */
export function invalidRouteConfig (route: string, problems: string[]): ProblemsError {
  const err = new InvalidRouteConfigError(route, problems.join('\n')) as unknown as ProblemsError
  err.problems = problems
  return err
}

/** Thrown when a handler reads `reply.cspNonce` on a route whose CSP carries no nonce: the value would be in no policy. */
export const CspNonceOffError = createError(
  'FST_RAMPART_CSP_NONCE_OFF',
  "reply.cspNonce was read on a route whose Content-Security-Policy has no nonce; set headers.contentSecurityPolicy.nonce (true, ['scriptSrc'] or ['styleSrc'])",
  500
)

/** Sent (400) by the CSP report route when a body is not JSON or not a report. */
export const CspReportInvalidError = createError('FST_RAMPART_CSP_REPORT_INVALID', 'Invalid CSP report', 400)
