import type { FastifyReply, FastifyRequest } from 'fastify'
import type { IDToken, TokenEndpointResponse } from 'openid-client'
import Type, { type Static, type TUnsafe } from 'typebox'
import { DURATION_PATTERN } from '../lib/duration.js'
import { RedisOption } from '../lib/redis.js'

/** What `onLogin` receives once the callback and the id_token have been checked. */
export interface OidcLogin {
  /** The id_token's validated claims (`sub`, `iss`, `aud`, `exp`, `iat`, `nonce`, ... and the scopes' claims). */
  claims: IDToken
  /** The token endpoint's answer: `access_token`, `id_token`, `refresh_token` when issued, `expires_in`, ... */
  tokens: TokenEndpointResponse
  /** The same-site path the login started from (`/` when none or unsafe). */
  returnTo: string
}

/** What `onError` receives when the provider answered the callback with `error=`. */
export interface OidcProviderFailure {
  /** The OAuth error code (`access_denied`, `login_required`, ...); one of the registered codes or `'error'`. */
  error: string
  /** The provider's `error_description`, untrusted text: never render it as HTML. */
  errorDescription?: string
  /** The path the login started from. */
  returnTo: string
}

export type OidcLoginHandler = (request: FastifyRequest, reply: FastifyReply, login: OidcLogin) => unknown
export type OidcErrorHandler = (request: FastifyRequest, reply: FastifyReply, failure: OidcProviderFailure) => unknown
/** A `fetch` for openid-client's calls to the provider (a proxy, a test double). */
export type OidcFetch = (url: string, options: RequestInit) => Promise<Response>

function fn<T> (signature: string): TUnsafe<T> {
  return Type.Unsafe<T>({ type: 'function', errorMessage: `must be a function ${signature}` })
}

const Url = (what: string) => Type.String({ pattern: '^[hH][tT][tT][pP][sS]?://', errorMessage: `must be an ${what} URL (https://...)` })

export const OidcOptionsSchema = Type.Object(
  {
    /** Issuer identifier; its `/.well-known/openid-configuration` is read at register. https, or http on loopback. */
    issuer: Url('issuer'),
    clientId: Type.String({ minLength: 1 }),
    /** Confidential client's secret; leave out for a public client (PKCE S256 is used either way). */
    clientSecret: Type.Optional(Type.String({ minLength: 1 })),
    /** How the secret is sent to the token endpoint. */
    tokenEndpointAuthMethod: Type.Optional(
      Type.Union([Type.Literal('client_secret_basic'), Type.Literal('client_secret_post')], { default: 'client_secret_basic' })
    ),
    /** Registered redirect URI, compared exactly by the provider. https, or http on loopback; no fragment. */
    redirectUri: Url('absolute redirect'),
    /** Scopes to request; `openid` is required. */
    scopes: Type.Optional(
      Type.Array(Type.String({ pattern: '^[\\x21\\x23-\\x5B\\x5D-\\x7E]+$', errorMessage: 'must be a scope token (no spaces or quotes)' }), {
        minItems: 1,
        default: ['openid'],
      })
    ),
    /** HMAC keys for the state (and the cookie's encryption), each at least 32 bytes; the first signs, all verify. */
    stateSecrets: Type.Array(
      Type.Unsafe<string | Uint8Array>({ anyOf: [{ type: 'string' }, { type: 'object' }], errorMessage: 'must be a string or a Buffer' }),
      { minItems: 1 }
    ),
    loginPath: Type.Optional(Type.String({ pattern: '^/', default: '/auth/login', errorMessage: 'must be a path starting with "/"' })),
    callbackPath: Type.Optional(Type.String({ pattern: '^/', default: '/auth/callback', errorMessage: 'must be a path starting with "/"' })),
    /** Name of the short-lived cookie that binds the state to the browser. */
    cookieName: Type.Optional(
      Type.String({ pattern: '^__Host-[A-Za-z0-9_-]{1,64}$', default: '__Host-rampart-oidc', errorMessage: 'must be a __Host- cookie name' })
    ),
    onLogin: fn<OidcLoginHandler>('(request, reply, { claims, tokens, returnTo })'),
    onError: Type.Optional(fn<OidcErrorHandler>('(request, reply, { error, errorDescription, returnTo })')),
    /** Single-use state store: memory (default) or a Redis shared by instances. */
    store: Type.Optional(
      Type.Object(
        {
          redis: Type.Optional(RedisOption),
          /** Redis key prefix. */
          prefix: Type.Optional(Type.String({ default: 'rampart:oidc:' })),
          /** Used states the memory store keeps (each for the state's lifetime). */
          maxKeys: Type.Optional(Type.Integer({ minimum: 1, default: 100_000 })),
        },
        { additionalProperties: false, default: {} }
      )
    ),
    /** Time limit for each call to the provider (discovery, token, JWKS). */
    timeout: Type.Optional(
      Type.Union([Type.Integer({ minimum: 1 }), Type.String({ pattern: DURATION_PATTERN })], {
        default: '10s',
        errorMessage: "must be milliseconds or a duration like '10s'",
      })
    ),
    /** Custom fetch for calls to the provider. */
    fetch: Type.Optional(fn<OidcFetch>('(url, init) => Promise<Response>')),
    // Not options: listed only to refuse them with a reason. PKCE with S256
    // is always used (also by confidential clients), never `plain` or none.
    pkce: Type.Optional(Type.Never({ errorMessage: 'cannot be configured: PKCE with S256 is always used' })),
    codeChallengeMethod: Type.Optional(Type.Never({ errorMessage: "cannot be configured: PKCE with S256 is always used, never 'plain'" })),
    /** Clock for the state's timestamps, in ms (tests). */
    now: Type.Optional(fn<() => number>('() => number')),
  },
  { additionalProperties: false }
)

export type OidcOptions = Static<typeof OidcOptionsSchema>
