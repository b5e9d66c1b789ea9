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

/** Thrown by `parseSpiffeId` (and the authorizers built from IDs) for a string that is not a canonical SPIFFE ID. */
export const InvalidSpiffeIdError = createError('FST_RAMPART_INVALID_SPIFFE_ID', 'Invalid SPIFFE ID: %s', 500)

/** Sent (401) when a request has no client certificate, or one the TLS layer did not authenticate. */
export const MtlsRequiredError = createError('FST_RAMPART_MTLS_REQUIRED', 'A trusted client certificate is required', 401)

/** Sent (403) when the client certificate is authenticated but its SPIFFE ID is refused. */
export const MtlsForbiddenError = createError('FST_RAMPART_MTLS_FORBIDDEN', 'The client certificate is not authorized for this resource', 403)
