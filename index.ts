import type { SecurityRouteConfig } from './schemas/security.js'

export {
  InvalidOptionsError,
  InvalidRouteConfigError,
  UntrustedHostError,
  CorsPreflightRefusedError,
  RateLimitedError,
  RateLimitUnavailableError,
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
  CspSchema,
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
export { type SecurityOptions, SecurityOptionsSchema, type SecurityRouteConfig } from './schemas/security.js'

declare module 'fastify' {
  interface FastifyContextConfig {
    /** fastify-rampart per-route settings: `false` turns a plugin off for the route, an object overrides its options. */
    security?: SecurityRouteConfig
  }
}
export type { RateLimitApi, RateLimitCheckOptions, RateLimitResult } from './plugins/rate-limit/plugin.js'
export type { RateLimitErrorContext } from './schemas/rate-limit.js'
export { SlidingLogStore, decideLog as slidingLogDecide } from './plugins/rate-limit/sliding-log.js'
export { declareSecurityKey } from './lib/route-config.js'
