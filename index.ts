import type { SecurityRouteConfig } from './schemas/security.js'

export {
  InvalidOptionsError,
  InvalidRouteConfigError,
  UntrustedHostError,
  CorsPreflightRefusedError,
  RateLimitedError,
  RateLimitUnavailableError,
  WebhookInvalidError,
  WebhookTooLargeError,
  WebhookInProgressError,
  WebhookUnavailableError,
  CspNonceOffError,
  CspReportInvalidError,
  type ProblemsError,
} from './lib/errors.js'
export {
  TrustedHostOptionsSchema,
  TrustedHostRouteSchema,
  type TrustedHostOptions,
  type TrustedHostRouteConfig,
} from './schemas/trusted-host.js'
export { CorsOptionsSchema, CorsRouteSchema, type CorsOptions, type CorsRouteConfig } from './schemas/cors.js'
export {
  RateLimitOptionsSchema,
  RateLimitRouteSchema,
  type RateLimitOptions,
  type RateLimitRouteConfig,
} from './schemas/rate-limit.js'
export { default as headersPlugin } from './plugins/headers/plugin.js'
export { cspReportPlugin, cspReportRoute, type CspViolation } from './plugins/headers/csp-report.js'
export { auditHeaders, type AuditFinding, type AuditOptions, type HeaderSource } from './plugins/headers/audit.js'
export { default as securityPlugin, default } from './plugins/security.js'
export { default as trustedHostPlugin } from './plugins/trusted-host/plugin.js'
export { default as corsPlugin } from './plugins/cors/plugin.js'
export { default as rateLimitPlugin } from './plugins/rate-limit/plugin.js'
export { MemoryStore } from './plugins/rate-limit/memory-store.js'
export { RedisStore, LIMITER_REDIS_OPTIONS } from './plugins/rate-limit/redis-store.js'
export type { RateLimitStore } from './plugins/rate-limit/store.js'
export { decide as gcraDecide, type GcraDecision, type GcraParams } from './plugins/rate-limit/gcra.js'
export { hostsFromEnv, type HostsFromEnvOptions } from './plugins/trusted-host/env.js'
export {
  type CspDirectives,
  CspDirectivesSchema,
  type CspOptions,
  type CspReportOptions,
  CspReportOptionsSchema,
  CspSchema,
  type FrameAncestorsFor,
  type HeadersOptions,
  HeadersOptionsSchema,
  type HeadersRouteConfig,
  type HstsOptions,
  HstsSchema,
  PERMISSION_FEATURES,
  type PermissionsPolicy,
  PermissionsPolicySchema,
  REFERRER_POLICIES,
  type ReferrerPolicyValue,
} from './schemas/headers.js'
export { default as webhookPlugin, type WebhookDelivery } from './plugins/webhook/plugin.js'
export { signWebhook } from './plugins/webhook/sign.js'
export {
  SignWebhookOptionsSchema,
  WebhookOptionsSchema,
  WebhookRouteSchema,
  type SignWebhookOptions,
  type WebhookOptions,
  type WebhookRouteConfig,
  type WebhookScheme,
} from './schemas/webhook.js'
export { type SecurityOptions, SecurityOptionsSchema, type SecurityRouteConfig } from './schemas/security.js'
export { OAuthInvalidGrantError, type OAuthError } from './lib/errors.js'
export { verifyPkce, pkceChallenge, createPkcePair, assertPkce, type VerifyPkceInput, type AssertPkceInput } from './oauth/pkce.js'
export { createRedirectUriMatcher, type RedirectUriMatcher } from './oauth/redirect-uri.js'
export {
  createRefreshTokens,
  hashToken as hashRefreshToken,
  type RefreshGrant,
  type RefreshTokens,
  type IssuedRefreshToken,
  type RotatedRefreshToken,
} from './oauth/refresh-tokens.js'
export {
  MemoryRefreshStore,
  RedisRefreshStore,
  type RefreshStore,
  type RefreshTokenRecord,
  type FoundToken,
  type RotateOutcome,
  type TokenStatus,
  type MemoryRefreshStoreOptions,
  type RedisRefreshStoreOptions,
} from './oauth/refresh-store.js'
export { oauthErrorReply, type OAuthErrorBody } from './oauth/error-reply.js'
export {
  RefreshTokensOptionsSchema,
  RedirectUriMatcherOptionsSchema,
  type RefreshTokensOptions,
  type RedirectUriMatcherOptions,
} from './schemas/oauth.js'
export {
  OidcCallbackInvalidError,
  OidcUnavailableError,
  OidcDiscoveryError,
} from './lib/errors.js'
export { default as oidcLoginPlugin } from './plugins/oidc/plugin.js'
export { sanitizeReturnTo } from './plugins/oidc/return-to.js'
export {
  OidcOptionsSchema,
  type OidcOptions,
  type OidcLogin,
  type OidcProviderFailure,
  type OidcLoginHandler,
  type OidcErrorHandler,
  type OidcFetch,
} from './schemas/oidc.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** fastify-rampart per-route settings: `false` turns a plugin off for the route, an object overrides its options. */
    security?: SecurityRouteConfig
  }
}
export { type ClientErrorHandler, createClientErrorHandler, rampartClientErrorHandler } from './plugins/headers/client-error.js'
export {
  AuthRequiredError,
  AuthInvalidRequestError,
  InvalidTokenError,
  InsufficientScopeError,
  JwksUnavailableError,
} from './lib/errors.js'
export { default as jwtPlugin, jwtPrincipal } from './plugins/jwt/plugin.js'
export type { JwtAuth } from './plugins/jwt/verify.js'
export type { TimeInput as JwtTimeInput } from './plugins/jwt/revocation.js'
export {
  JwtOptionsSchema,
  JwtIssuerSchema,
  JwtRouteSchema,
  type JwtOptions,
  type JwtIssuerOptions,
  type JwtRouteConfig,
} from './schemas/jwt.js'
export { InvalidSpiffeIdError, MtlsRequiredError, MtlsForbiddenError } from './lib/errors.js'
export { default as mtlsPlugin } from './plugins/mtls/plugin.js'
export { mtlsServerOptions, type MtlsHttpsOptions } from './plugins/mtls/server-options.js'
export { parseSpiffeId, SpiffeId, MAX_SPIFFE_ID_BYTES } from './plugins/mtls/spiffe-id.js'
export { authorizeAny, authorizeID, authorizeOneOf, authorizeMemberOf, type MtlsAuthorizer } from './plugins/mtls/authorizers.js'
export {
  MtlsOptionsSchema,
  MtlsRouteSchema,
  MtlsServerOptionsSchema,
  type MtlsOptions,
  type MtlsRouteConfig,
  type MtlsServerFiles,
  type MtlsFiles,
} from './schemas/mtls.js'
export type { RateLimitApi, RateLimitCheckOptions, RateLimitResult } from './plugins/rate-limit/plugin.js'
export type { RateLimitErrorContext } from './schemas/rate-limit.js'
export { SlidingLogStore, decideLog as slidingLogDecide } from './plugins/rate-limit/sliding-log.js'
export { declareSecurityKey } from './lib/route-config.js'
