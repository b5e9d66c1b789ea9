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

const InvalidGrantBase = createError('FST_RAMPART_OAUTH_INVALID_GRANT', '%s', 400)

export interface OAuthError extends Error {
  code: string
  statusCode: number
  /** The RFC 6749 §5.2 error code. */
  error: string
  error_description: string
}

/**
 * Thrown by the oauth helpers (PKCE, refresh-token rotation) when a grant is
 * refused: 400 with `error: 'invalid_grant'` and an `error_description`
 * (the message, safe to show the client), so `oauthErrorReply` can answer
 * RFC 6749 §5.2 from it.
 */
export class OAuthInvalidGrantError extends InvalidGrantBase implements OAuthError {
  readonly error = 'invalid_grant'
  readonly error_description: string

  constructor (description = 'invalid grant') {
    super(description)
    this.error_description = description
  }
}

/** Builds the invalid_grant error. */
export function invalidGrant (description: string): OAuthError {
  return new OAuthInvalidGrantError(description)
}
/** Sent (400) when an OIDC login callback is refused: bad or reused state, foreign browser, wrong `iss`, provider error, code not redeemed. */
export const OidcCallbackInvalidError = createError('FST_RAMPART_OIDC_CALLBACK_INVALID', 'Invalid login callback%s', 400)

/** Sent (503) when an OIDC login cannot complete because the provider or the state store cannot be reached. */
export const OidcUnavailableError = createError('FST_RAMPART_OIDC_UNAVAILABLE', 'Login is temporarily unavailable', 503)

/** Thrown from `register` when the OIDC provider's discovery document cannot be read or does not fit. */
export const OidcDiscoveryError = createError('FST_RAMPART_OIDC_DISCOVERY_FAILED', 'OpenID Connect discovery of %s failed: %s', 500)
/** Sent (401) when a webhook delivery fails verification: header, timestamp or signature (which one goes to the log only). */
export const WebhookInvalidError = createError('FST_RAMPART_WEBHOOK_INVALID', 'Invalid webhook delivery', 401)

/** Sent (413) when a webhook body is larger than the route's `bodyLimit`; no signature is computed. */
export const WebhookTooLargeError = createError('FST_RAMPART_WEBHOOK_TOO_LARGE', 'Webhook body is too large', 413)

/** Sent (409, `Retry-After: 1`) when the same webhook delivery is still being processed. */
export const WebhookInProgressError = createError('FST_RAMPART_WEBHOOK_IN_PROGRESS', 'This webhook delivery is already being processed', 409)

/** Sent (503, `Retry-After: 1`) when the webhook replay store cannot be reached (fail closed). */
export const WebhookUnavailableError = createError('FST_RAMPART_WEBHOOK_UNAVAILABLE', 'Service temporarily unavailable', 503)
/** Sent (401, `WWW-Authenticate: Bearer realm=...`) when a request carries no `Authorization: Bearer` credentials. */
export const AuthRequiredError = createError('FST_RAMPART_AUTH_REQUIRED', 'Authentication required', 401)

/** Sent (400, `error="invalid_request"`) for a malformed `Authorization` header: no token, two tokens, several headers. */
export const AuthInvalidRequestError = createError('FST_RAMPART_AUTH_INVALID_REQUEST', 'Malformed Authorization header: %s', 400)

/** Sent (401, `error="invalid_token"`) when the bearer token fails verification or is revoked. */
export const InvalidTokenError = createError('FST_RAMPART_INVALID_TOKEN', 'Invalid token: %s', 401)

/** Sent (403, `error="insufficient_scope"`) when a valid token lacks a scope the route requires. */
export const InsufficientScopeError = createError('FST_RAMPART_INSUFFICIENT_SCOPE', 'Insufficient scope, needs: %s', 403)

/** Sent (503, `Retry-After`) when no usable key set can be had from the issuer's JWKS endpoint. */
export const JwksUnavailableError = createError('FST_RAMPART_JWKS_UNAVAILABLE', 'Token keys temporarily unavailable, retry in %s seconds', 503)
/** Thrown when a handler reads `reply.cspNonce` on a route whose CSP carries no nonce: the value would be in no policy. */
export const CspNonceOffError = createError(
  'FST_RAMPART_CSP_NONCE_OFF',
  "reply.cspNonce was read on a route whose Content-Security-Policy has no nonce; set headers.contentSecurityPolicy.nonce (true, ['scriptSrc'] or ['styleSrc'])",
  500
)

/** Sent (400) by the CSP report route when a body is not JSON or not a report. */
export const CspReportInvalidError = createError('FST_RAMPART_CSP_REPORT_INVALID', 'Invalid CSP report', 400)
/** Thrown by `parseSpiffeId` (and the authorizers built from IDs) for a string that is not a canonical SPIFFE ID. */
export const InvalidSpiffeIdError = createError('FST_RAMPART_INVALID_SPIFFE_ID', 'Invalid SPIFFE ID: %s', 500)

/** Sent (401) when a request has no client certificate, or one the TLS layer did not authenticate. */
export const MtlsRequiredError = createError('FST_RAMPART_MTLS_REQUIRED', 'A trusted client certificate is required', 401)

/** Sent (403) when the client certificate is authenticated but its SPIFFE ID is refused. */
export const MtlsForbiddenError = createError('FST_RAMPART_MTLS_FORBIDDEN', 'The client certificate is not authorized for this resource', 403)
