import type { Redis } from 'ioredis'
import type { JSONWebKeySet } from 'jose'
import Type, { type Static, type TUnsafe } from 'typebox'
import { DURATION_PATTERN } from '../lib/duration.js'
import { RedisOption } from '../lib/redis.js'

/** Milliseconds, or a string such as `'30s'`, `'5m'`, `'1h'`, `'24h'`. */
const Ms = Type.Integer({ minimum: 1 })
const DurationText = Type.String({ pattern: DURATION_PATTERN, errorMessage: "must be a duration like '30s', '5m', '1h', '1d'" })
const Duration = (defaultValue: string) => Type.Union([Ms, DurationText], { default: defaultValue })

const NonEmpty = Type.String({ minLength: 1, errorMessage: 'must be a non-empty string' })
// RFC 6749 §3.3 scope-token: printable ASCII except space, `"` and `\`.
const ScopeToken = Type.String({ pattern: '^[\\x21\\x23-\\x5B\\x5D-\\x7E]+$', errorMessage: 'must be a scope token (printable ASCII, no space, " or \\)' })

const LocalJwks: TUnsafe<JSONWebKeySet> = Type.Unsafe<JSONWebKeySet>({
  type: 'object',
  properties: { keys: { type: 'array', items: { type: 'object' } } },
  required: ['keys'],
})

export const JwtIssuerSchema = Type.Object(
  {
    /** The exact `iss` value of this issuer's tokens. */
    issuer: NonEmpty,
    /** Our API's identifier(s): the token's `aud` must name at least one. Required. */
    audience: Type.Union([NonEmpty, Type.Array(NonEmpty, { minItems: 1 })]),
    /** The issuer's JWKS URL (https; http only for loopback hosts). */
    jwksUri: Type.Optional(Type.String()),
    /** A local JWKS (`{ keys: [...] }`), public keys only. */
    keys: Type.Optional(LocalJwks),
    /** A shared secret (HS256/384/512, at least 32 bytes), for first-party tokens only. */
    secret: Type.Optional(Type.String()),
    /** Accepted `alg` values; default `['RS256', 'PS256', 'ES256', 'EdDSA']` (`['HS256']` with a secret). */
    algorithms: Type.Optional(Type.Array(Type.String(), { minItems: 1 })),
  },
  { additionalProperties: false }
)

export const JwtOptionsSchema = Type.Object(
  {
    issuers: Type.Array(JwtIssuerSchema, { minItems: 1 }),
    /** Accepted `typ` header (RFC 9068 `at+jwt`, `application/` prefix optional), a list, or `false` for no check. */
    typ: Type.Optional(Type.Union([Type.Literal(false), NonEmpty, Type.Array(NonEmpty, { minItems: 1 })], { default: 'at+jwt' })),
    clockTolerance: Type.Optional(Duration('30s')),
    /** Oldest `iat` accepted; `false` turns the check off. */
    maxTokenAge: Type.Optional(Type.Union([Type.Literal(false), Ms, DurationText], { default: '24h' })),
    requiredClaims: Type.Optional(Type.Array(NonEmpty, { default: ['iss', 'aud', 'exp', 'sub'] })),
    jwks: Type.Optional(
      Type.Object(
        {
          /** How long a fetched key set is fresh. */
          cacheMaxAge: Type.Optional(Duration('1h')),
          /** Least time between two fetches (an unknown `kid`, a failed fetch). */
          cooldown: Type.Optional(Duration('30s')),
          /** Most time a fetch may take. */
          timeout: Type.Optional(Duration('5s')),
          /** How long past `cacheMaxAge` keys fetched before keep verifying while the IdP cannot be reached. */
          maxStale: Type.Optional(Duration('24h')),
        },
        { additionalProperties: false, default: {} }
      )
    ),
    revocation: Type.Optional(
      Type.Object(
        {
          store: Type.Optional(
            Type.Object(
              {
                redis: RedisOption as TUnsafe<Redis | string>,
                prefix: Type.Optional(Type.String({ default: 'rampart:jwt:', pattern: '^[^{}]*$', errorMessage: 'must not contain { or }' })),
              },
              { additionalProperties: false }
            )
          ),
          /** Most revocations held at once (per kind); a revocation past this is refused, never one forgotten. */
          maxEntries: Type.Optional(Type.Integer({ minimum: 1, default: 100_000 })),
        },
        { additionalProperties: false, default: {} }
      )
    ),
    /** Verified-token cache (a repeated token costs no signature check); `false` turns it off. */
    cache: Type.Optional(
      Type.Union([Type.Literal(false), Type.Object({ maxEntries: Type.Optional(Type.Integer({ minimum: 1, default: 10_000 })) }, { additionalProperties: false })], {
        default: {},
      })
    ),
    /** `realm` in WWW-Authenticate. */
    realm: Type.Optional(Type.String({ pattern: '^[\\x20\\x21\\x23-\\x5B\\x5D-\\x7E]*$', default: 'api', errorMessage: 'must be printable ASCII without " or \\' })),
    /** Clock (ms since the epoch), for tests. */
    now: Type.Optional(Type.Unsafe<() => number>({ type: 'function', errorMessage: 'must be a function () => number' })),
  },
  { additionalProperties: false }
)

export const JwtRouteSchema = Type.Union([
  Type.Literal(false),
  Type.Object(
    {
      /** Every one of these scopes is required. */
      scopes: Type.Optional(Type.Array(ScopeToken)),
      /** At least one of these scopes is required. */
      anyScope: Type.Optional(Type.Array(ScopeToken, { minItems: 1 })),
      /** No token: the request goes on with `request.auth === null`; a bad token is still refused. */
      optional: Type.Optional(Type.Boolean()),
      /** Only tokens from these issuers (a subset of the plugin's). */
      issuers: Type.Optional(Type.Array(NonEmpty, { minItems: 1 })),
    },
    { additionalProperties: false }
  ),
])

export type JwtIssuerOptions = Static<typeof JwtIssuerSchema>
export type JwtOptions = Static<typeof JwtOptionsSchema>
/** `config.security.jwt`: `false` (a public route) or the route's requirements. */
export type JwtRouteConfig = Static<typeof JwtRouteSchema>
