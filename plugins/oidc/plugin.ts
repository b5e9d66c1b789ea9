import { randomBytes, timingSafeEqual } from 'node:crypto'
import fastifyCookie from '@fastify/cookie'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import fp from 'fastify-plugin'
import type { Redis } from 'ioredis'
import {
  allowInsecureRequests,
  authorizationCodeGrant,
  buildAuthorizationUrl,
  calculatePKCECodeChallenge,
  type ClientAuth,
  ClientError,
  ClientSecretBasic,
  ClientSecretPost,
  type Configuration,
  customFetch,
  discovery,
  type DiscoveryRequestOptions,
  None,
  randomNonce,
  randomPKCECodeVerifier,
  ResponseBodyError,
} from 'openid-client'
import { type ClaimStore, MemoryClaimStore, RedisClaimStore } from '../../lib/claim-store.js'
import { toMs } from '../../lib/duration.js'
import { invalidOptions, OidcCallbackInvalidError, OidcDiscoveryError, OidcUnavailableError } from '../../lib/errors.js'
import { collectOptions, withoutRegisterKeys } from '../../lib/options.js'
import { connectRedis } from '../../lib/redis.js'
import { type OidcFetch, type OidcOptions, OidcOptionsSchema } from '../../schemas/oidc.js'
import { readCallbackQuery } from './callback-params.js'
import { openCookie, sealCookie } from './cookie-seal.js'
import { deriveKey } from './keys.js'
import { checkOidcOptions } from './resolve.js'
import { providerErrorCode } from './provider-errors.js'
import { sanitizeReturnTo } from './return-to.js'
import { bindingHash, createState, STATE_MAX_AGE_S, STATE_MAX_FUTURE_S, verifyState } from './state.js'

type Resolved = Required<Omit<OidcOptions, 'clientSecret' | 'onError' | 'fetch' | 'now' | 'store'>> &
  Pick<OidcOptions, 'clientSecret' | 'onError' | 'fetch' | 'now'> & {
    store: { redis?: Redis | string; prefix: string; maxKeys: number }
  }

// A used state is remembered for as long as it could still verify.
const CLAIM_TTL_MS = (STATE_MAX_AGE_S + STATE_MAX_FUTURE_S + 1) * 1000
const REDIS_TIMEOUT_MS = 200
const REDIS_READY_MS = 1000

// openid-client failures that mean "could not reach or understand the
// provider right now" (503), as opposed to "this callback is not good" (400).
const UNAVAILABLE_CODES = new Set(['OAUTH_TIMEOUT', 'OAUTH_ABORT', 'OAUTH_RESPONSE_IS_NOT_CONFORM', 'OAUTH_RESPONSE_IS_NOT_JSON'])

function isUnavailable (err: unknown): boolean {
  if (err instanceof ResponseBodyError) return err.status >= 500
  if (err instanceof ClientError) return UNAVAILABLE_CODES.has(err.code as string)
  // fetch() rejects with a TypeError when the provider cannot be reached.
  return err instanceof TypeError
}

function clientAuth (options: Resolved): ClientAuth {
  if (options.clientSecret === undefined) return None()
  return options.tokenEndpointAuthMethod === 'client_secret_post' ? ClientSecretPost(options.clientSecret) : ClientSecretBasic(options.clientSecret)
}

async function discover (options: Resolved): Promise<Configuration> {
  const issuer = new URL(options.issuer)
  const request: DiscoveryRequestOptions = { timeout: Math.max(1, Math.ceil(toMs(options.timeout) / 1000)) }
  // Plain http only reaches this point for a loopback issuer (checked above).
  if (issuer.protocol === 'http:') request.execute = [allowInsecureRequests]
  if (options.fetch !== undefined) request[customFetch] = options.fetch as OidcFetch as never
  let config: Configuration
  try {
    config = await discovery(issuer, options.clientId, undefined, clientAuth(options), request)
  } catch (err) {
    throw new OidcDiscoveryError(options.issuer, (err as Error).message)
  }
  const metadata = config.serverMetadata()
  const methods = metadata.code_challenge_methods_supported
  if (methods !== undefined && !methods.includes('S256')) {
    throw new OidcDiscoveryError(options.issuer, 'the provider does not support PKCE S256 (code_challenge_methods_supported)')
  }
  if (!(metadata.response_types_supported as string[] | undefined ?? ['code']).includes('code')) {
    throw new OidcDiscoveryError(options.issuer, "the provider does not support response_type 'code'")
  }
  return config
}

function safeEqual (a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

async function oidcLoginPlugin (fastify: FastifyInstance, raw: OidcOptions): Promise<void> {
  const problems: string[] = []
  const options = collectOptions<Resolved>(OidcOptionsSchema, withoutRegisterKeys(raw), 'oidc', problems)
  if (problems.length === 0) checkOidcOptions(options, problems)
  if (problems.length > 0) throw invalidOptions(problems)

  const config = await discover(options)
  const issuer = config.serverMetadata().issuer
  const issRequired = config.serverMetadata().authorization_response_iss_parameter_supported === true
  const keys = options.stateSecrets.map(deriveKey)
  const signer = keys[0]
  const now = options.now ?? Date.now
  const scope = options.scopes.join(' ')
  const { redirectUri, cookieName, onLogin, onError } = options
  const cookieOptions = { path: '/', httpOnly: true, secure: true, sameSite: 'lax', maxAge: STATE_MAX_AGE_S } as const
  const clearOptions = { path: '/', httpOnly: true, secure: true, sameSite: 'lax' } as const

  let store: ClaimStore
  if (options.store.redis !== undefined) {
    const connection = connectRedis(options.store.redis, { log: fastify.log, purpose: 'oidc state' })
    store = new RedisClaimStore({ client: connection.client, prefix: options.store.prefix, timeoutMs: REDIS_TIMEOUT_MS })
    fastify.addHook('onClose', async function closeOidcRedis () {
      await connection.close()
    })
    // The client refuses commands until connected (no offline queue): wait
    // briefly so the first callbacks after startup do not get a 503.
    await connection.ready(REDIS_READY_MS)
  } else {
    store = new MemoryClaimStore({ maxKeys: options.store.maxKeys, now })
  }

  if (!fastify.hasDecorator('parseCookie')) await fastify.register(fastifyCookie)

  fastify.get(options.loginPath, async function oidcLogin (request: FastifyRequest, reply: FastifyReply) {
    const returnTo = sanitizeReturnTo((request.query as Record<string, unknown>).returnTo)
    const binding = randomBytes(32).toString('base64url')
    const verifier = randomPKCECodeVerifier()
    const nonce = randomNonce()
    const state = createState(signer, binding, returnTo, now())
    const url = buildAuthorizationUrl(config, {
      redirect_uri: redirectUri,
      scope,
      response_type: 'code',
      code_challenge: await calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
      nonce,
    })
    reply.setCookie(cookieName, sealCookie({ binding, verifier, nonce }, signer), cookieOptions)
    reply.header('cache-control', 'no-store')
    return reply.redirect(url.href, 302)
  })

  fastify.get(options.callbackPath, async function oidcCallback (request: FastifyRequest, reply: FastifyReply) {
    // The cookie is single-use whatever happens next.
    reply.clearCookie(cookieName, clearOptions)
    reply.header('cache-control', 'no-store')
    const refuse = (reason: string): never => {
      request.log.info({ reason }, 'fastify-rampart: OIDC callback refused')
      throw new OidcCallbackInvalidError('')
    }

    const query = readCallbackQuery(request.raw.url as string, issuer, issRequired)
    if (!query.ok) return refuse(query.reason)
    const checked = verifyState(query.state, keys, now())
    if (!checked.ok) return refuse(`state: ${checked.reason}`)
    const secrets = openCookie(request.cookies[cookieName], keys)
    if (secrets === undefined) return refuse('cookie')
    if (!safeEqual(bindingHash(secrets.binding), checked.payload.bnd)) return refuse('binding')

    let claim
    try {
      claim = await store.claim(checked.payload.rnd, CLAIM_TTL_MS)
    } catch (err) {
      request.log.error({ err }, 'fastify-rampart: the OIDC state store failed')
      throw new OidcUnavailableError()
    }
    if (!claim.claimed) return refuse('replayed')
    // Completed claims may be evicted by the memory store when full; a
    // failure here leaves the claim pending, which still blocks a replay.
    await store.complete(checked.payload.rnd, claim.owner, CLAIM_TTL_MS).catch(() => false)
    const returnTo = checked.payload.ret

    const error = query.params.get('error')
    if (error !== null) {
      const code = providerErrorCode(error)
      const description = query.params.get('error_description')
      request.log.info({ reason: 'provider error', error: code }, 'fastify-rampart: OIDC callback refused')
      if (onError !== undefined) {
        return onError(request, reply, description === null ? { error: code, returnTo } : { error: code, errorDescription: description, returnTo })
      }
      throw new OidcCallbackInvalidError(`: the identity provider answered ${code}`)
    }

    const currentUrl = new URL(redirectUri)
    currentUrl.search = query.search
    let tokens
    try {
      tokens = await authorizationCodeGrant(config, currentUrl, {
        expectedState: query.state,
        expectedNonce: secrets.nonce,
        pkceCodeVerifier: secrets.verifier,
        idTokenExpected: true,
      })
    } catch (err) {
      if (isUnavailable(err)) {
        request.log.error({ err }, 'fastify-rampart: the OIDC provider could not be reached')
        throw new OidcUnavailableError()
      }
      return refuse(`code exchange: ${(err as Error).message}`)
    }
    const claims = tokens.claims()
    return onLogin(request, reply, { claims: claims as NonNullable<typeof claims>, tokens, returnTo })
  })
}

/**
 * "Log in with your identity provider": authorization code flow with PKCE
 * S256, a signed single-use state bound to the browser, nonce, RFC 9207
 * `iss`, and the id_token validated by openid-client. Keeps no session:
 * `onLogin` starts the app's own.
 */
export default fp(oidcLoginPlugin, { fastify: '5.x', name: 'fastify-rampart-oidc' })
