import Type, { type Static } from 'typebox'
import type { HeadersOptions, HeadersRouteConfig } from './headers.js'
import type { CorsOptions, CorsRouteConfig } from './cors.js'
import type { RateLimitOptions, RateLimitRouteConfig } from './rate-limit.js'
import type { TrustedHostOptions, TrustedHostRouteConfig } from './trusted-host.js'
import type { JwtOptions } from './jwt.js'
import type { MtlsOptions } from './mtls.js'
import type { WebhookOptions } from './webhook.js'

// securityPlugin only checks the shape of its own object; each key's
// contents are checked by the plugin it is handed to, with the same
// `key.path` prefixes, so every problem is reported exactly once.
const PluginSlot = Type.Union([Type.Literal(false), Type.Object({})])

export const SecurityOptionsSchema = Type.Object(
  {
    headers: Type.Optional(PluginSlot),
    trustedHost: Type.Optional(PluginSlot),
    cors: Type.Optional(PluginSlot),
    rateLimit: Type.Optional(PluginSlot),
    jwt: Type.Optional(PluginSlot),
    webhook: Type.Optional(PluginSlot),
    mtls: Type.Optional(PluginSlot),
  },
  { additionalProperties: false }
)

export interface SecurityOptions extends Omit<Static<typeof SecurityOptionsSchema>, 'headers' | 'trustedHost' | 'cors' | 'rateLimit' | 'jwt' | 'webhook' | 'mtls'> {
  /** Security response headers; `false` to skip. Default: on. */
  headers?: false | HeadersOptions
  /** Host allowlist; off until given. */
  trustedHost?: false | TrustedHostOptions
  /** CORS allowlist; off until given. */
  cors?: false | CorsOptions
  /** Rate limiting; on by default (100 requests per minute per IP, memory store). */
  rateLimit?: false | RateLimitOptions
  /** Bearer-token verification; off until given. Registered after the rate limit, so the IP bucket runs before any signature check. */
  jwt?: false | JwtOptions
  /** Signed inbound webhooks; registered by default (routes opt in with config.security.webhook). */
  webhook?: false | WebhookOptions
  /** mTLS peer authorization by SPIFFE ID; off until given. */
  mtls?: false | MtlsOptions
}

/** Everything `config.security` accepts on a route; each plugin reads its own key. */
export interface SecurityRouteConfig {
  headers?: HeadersRouteConfig
  trustedHost?: TrustedHostRouteConfig
  cors?: CorsRouteConfig
  rateLimit?: RateLimitRouteConfig
}
