import Type, { type Static } from 'typebox'

export const TrustedHostOptionsSchema = Type.Object(
  {
    /** Exact hosts, `*.example.com` wildcards, IPv4, `[IPv6]`, each with an optional `:port`; `*` allows all. */
    allowedHosts: Type.Array(Type.String(), { minItems: 1 }),
    /** Read `X-Forwarded-Host` (last value) when Fastify's trustProxy trusts the peer. */
    useForwardedHost: Type.Optional(Type.Boolean({ default: false })),
    redirect: Type.Optional(
      Type.Object(
        {
          /** 308 from the apex to `www.` when `www.<host>` is listed exactly. */
          www: Type.Optional(Type.Boolean({ default: false })),
          /** 308 from http to https. */
          https: Type.Optional(Type.Boolean({ default: false })),
          /** Paths (exact, without query) never redirected, e.g. health checks. */
          exemptPaths: Type.Optional(
            Type.Array(Type.String({ pattern: '^/', errorMessage: 'must be a path starting with "/"' }), {
              default: [],
            })
          ),
        },
        { additionalProperties: false }
      )
    ),
  },
  { additionalProperties: false }
)

export const TrustedHostRouteSchema = Type.Union([
  Type.Literal(false),
  Type.Object({ allowedHosts: Type.Array(Type.String(), { minItems: 1 }) }, { additionalProperties: false }),
])

export type TrustedHostOptions = Static<typeof TrustedHostOptionsSchema>
/** `config.security.trustedHost`: `false` exempts the route; an object replaces the allowlist for it. */
export type TrustedHostRouteConfig = Static<typeof TrustedHostRouteSchema>
