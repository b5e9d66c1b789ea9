import Type, { type Static, type TUnsafe } from 'typebox'

const HeaderName = Type.String({ pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$", errorMessage: 'must be a header name' })
const Method = Type.String({ pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$", errorMessage: 'must be an HTTP method' })

/**
 * The escape hatch for origins no list can express: runs for every Origin
 * not already allowed. May answer with a Promise (a tenant lookup): then
 * bounded by `originMatcherTimeout` and cached per `originMatcherCache`.
 */
export type OriginMatcher = (origin: string) => boolean | PromiseLike<boolean>
const OriginMatcherSchema: TUnsafe<OriginMatcher> = Type.Unsafe<OriginMatcher>(
  Type.Function([Type.String()], Type.Boolean())
)
// A preflight answer's Cache-Control (a CDN in front may then cache it); printable ASCII only.
const CacheControl = Type.Union([
  Type.Literal(false),
  Type.String({ pattern: '^[\\x21-\\x7E][\\x20-\\x7E]*$', errorMessage: 'must be a printable ASCII header value' }),
])
const Ms = (fallback: number, maximum: number) => Type.Integer({ minimum: 1, maximum, default: fallback })

export const CorsOptionsSchema = Type.Object(
  {
    /** `https://app.example.com`, `http://localhost:5173`, `https://*.example.com`, or `*` (no credentials). */
    origins: Type.Array(Type.String()),
    credentials: Type.Optional(Type.Boolean({ default: false })),
    methods: Type.Optional(Type.Array(Method, { default: ['GET', 'HEAD', 'POST'] })),
    allowedHeaders: Type.Optional(Type.Array(HeaderName, { default: ['content-type'] })),
    exposedHeaders: Type.Optional(Type.Array(HeaderName, { default: [] })),
    /** Seconds browsers may cache a preflight. */
    maxAge: Type.Optional(Type.Integer({ minimum: 0, default: 600 })),
    allowNullOrigin: Type.Optional(Type.Boolean({ default: false })),
    /** Answer Private Network Access preflights (`Access-Control-Request-Private-Network`). */
    allowPrivateNetwork: Type.Optional(Type.Boolean({ default: false })),
    originMatcher: Type.Optional(OriginMatcherSchema),
    /** Milliseconds an async originMatcher may take; then the origin is refused. */
    originMatcherTimeout: Type.Optional(Ms(1000, 60_000)),
    /** Cache of async originMatcher answers, per origin. */
    originMatcherCache: Type.Optional(
      Type.Object(
        {
          maxKeys: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1000 })),
          /** Milliseconds an allowed answer is kept. */
          ttl: Type.Optional(Ms(60_000, 86_400_000)),
          /** Milliseconds a refusal (a `false`, a failure, a timeout) is kept. */
          negativeTtl: Type.Optional(Ms(10_000, 86_400_000)),
        },
        { additionalProperties: false, default: {} }
      )
    ),
    /** Cache-Control on allowed preflight answers, e.g. `max-age=600`; `false` leaves it to the headers plugin (`no-store`). */
    cacheControl: Type.Optional(Type.Union(CacheControl.anyOf, { default: false })),
    /** Reflect any Origin (with credentials if set). Almost always a mistake. */
    dangerouslyReflectAnyOrigin: Type.Optional(Type.Boolean({ default: false })),
    /** Allow `Origin: null` together with credentials. */
    dangerouslyAllowNullOriginWithCredentials: Type.Optional(Type.Boolean({ default: false })),
  },
  { additionalProperties: false }
)

export const CorsRouteSchema = Type.Union([
  Type.Literal(false),
  Type.Object(
    {
      origins: Type.Optional(Type.Array(Type.String())),
      credentials: Type.Optional(Type.Boolean()),
      methods: Type.Optional(Type.Array(Method)),
      allowedHeaders: Type.Optional(Type.Array(HeaderName)),
      exposedHeaders: Type.Optional(Type.Array(HeaderName)),
      maxAge: Type.Optional(Type.Integer({ minimum: 0 })),
      cacheControl: Type.Optional(CacheControl),
    },
    { additionalProperties: false }
  ),
])

export type CorsOptions = Static<typeof CorsOptionsSchema>
/** `config.security.cors`: `false` (no CORS, preflight included) or overrides for the route. */
export type CorsRouteConfig = Static<typeof CorsRouteSchema>
