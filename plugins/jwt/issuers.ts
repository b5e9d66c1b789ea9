import type { FastifyBaseLogger } from 'fastify'
import type { JSONWebKeySet } from 'jose'
import { toMs } from '../../lib/duration.js'
import type { JwtIssuerOptions, JwtOptions } from '../../schemas/jwt.js'
import { type KeySource, localKeySet, RemoteKeySet } from './key-set.js'

/** Asymmetric algorithms jose verifies with a JWKS. */
const ASYMMETRIC = new Set(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519'])
const SYMMETRIC = new Set(['HS256', 'HS384', 'HS512'])
const DEFAULT_ALGORITHMS = ['RS256', 'PS256', 'ES256', 'EdDSA']
const MIN_SECRET_BYTES = 32

/** An issuer ready for verification: the policy jose gets, and where its keys come from. */
export interface Issuer {
  issuer: string
  audience: string[]
  algorithms: string[]
  keys: KeySource | Uint8Array
}

export interface ResolveContext {
  jwks: Required<NonNullable<JwtOptions['jwks']>>
  now: () => number
  log: FastifyBaseLogger
}

function isLoopback (hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname)
}

function checkJwksUri (uri: string, path: string, problems: string[]): void {
  let url: URL
  try {
    url = new URL(uri)
  } catch {
    problems.push(`${path}.jwksUri: must be an absolute URL`)
    return
  }
  if (url.protocol === 'https:' || (url.protocol === 'http:' && isLoopback(url.hostname))) return
  problems.push(`${path}.jwksUri: must be https (http only for loopback hosts)`)
}

function checkLocalKeys (jwks: JSONWebKeySet, path: string, problems: string[]): void {
  jwks.keys.forEach((jwk, i) => {
    // Never accept a private or symmetric key in a verification set: a leaked signing key is a forged token.
    if ('d' in jwk || jwk.kty === 'oct') problems.push(`${path}.keys.keys[${i}]: must be a public key (no "d", no kty "oct")`)
  })
}

function checkAlgorithms (algorithms: string[], secret: boolean, path: string, problems: string[]): void {
  for (const alg of algorithms) {
    if (alg.toLowerCase() === 'none') problems.push(`${path}.algorithms: 'none' is never accepted`)
    else if (SYMMETRIC.has(alg)) {
      if (!secret) problems.push(`${path}.algorithms: ${alg} needs a secret; a JWKS public key must never verify an HMAC (algorithm confusion)`)
    } else if (!ASYMMETRIC.has(alg)) problems.push(`${path}.algorithms: ${alg} is not a supported algorithm`)
    else if (secret) problems.push(`${path}.algorithms: ${alg} needs a key set, not a secret`)
  }
}

/** Checks one issuer's options beyond the schema and builds its key source; problems go to `problems`. */
export function resolveIssuer (options: JwtIssuerOptions, path: string, context: ResolveContext, problems: string[]): Issuer {
  const sources = [options.jwksUri, options.keys, options.secret].filter((s) => s !== undefined).length
  if (sources !== 1) problems.push(`${path}: needs exactly one of jwksUri, keys or secret (got ${sources})`)
  const secret = options.secret !== undefined
  const algorithms = options.algorithms ?? (secret ? ['HS256'] : DEFAULT_ALGORITHMS)
  checkAlgorithms(algorithms, secret, path, problems)
  let keys: KeySource | Uint8Array = localKeySet({ keys: [] })
  if (options.secret !== undefined) {
    keys = new TextEncoder().encode(options.secret)
    if (keys.byteLength < MIN_SECRET_BYTES) problems.push(`${path}.secret: must be at least ${MIN_SECRET_BYTES} bytes`)
  } else if (options.keys !== undefined) {
    const before = problems.length
    checkLocalKeys(options.keys, path, problems)
    if (problems.length === before) keys = localKeySet(options.keys)
  } else if (options.jwksUri !== undefined) {
    checkJwksUri(options.jwksUri, path, problems)
    const j = context.jwks
    keys = new RemoteKeySet(options.jwksUri, {
      cacheMaxAgeMs: toMs(j.cacheMaxAge),
      cooldownMs: toMs(j.cooldown),
      timeoutMs: toMs(j.timeout),
      maxStaleMs: toMs(j.maxStale),
      now: context.now,
      log: context.log,
    })
  }
  const audience = typeof options.audience === 'string' ? [options.audience] : options.audience
  return { issuer: options.issuer, audience, algorithms, keys }
}
