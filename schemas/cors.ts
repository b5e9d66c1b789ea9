import Type, { type Static, type TUnsafe } from 'typebox'

const HeaderName = Type.String({ pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$", errorMessage: 'must be a header name' })
const Method = Type.String({ pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$", errorMessage: 'must be an HTTP method' })

/** The escape hatch for origins no list can express: runs for every Origin not already allowed. */
const OriginMatcher: TUnsafe<(origin: string) => boolean> = Type.Unsafe<(origin: string) => boolean>(
  Type.Function([Type.String()], Type.Boolean())
)

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
    originMatcher: Type.Optional(OriginMatcher),
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
    },
    { additionalProperties: false }
  ),
])

export type CorsOptions = Static<typeof CorsOptionsSchema>
/** `config.security.cors`: `false` (no CORS, preflight included) or overrides for the route. */
export type CorsRouteConfig = Static<typeof CorsRouteSchema>
