import { decodeJwt, jwtVerify, type JWTPayload, type JWTVerifyGetKey, type JWTVerifyOptions, type JWTVerifyResult } from 'jose'
import type { Issuer } from './issuers.js'
import { KeysUnavailable } from './key-set.js'
import { scopesOf } from './scopes.js'

/** `request.auth` of an authenticated request. */
export interface JwtAuth {
  /** `sub` */
  readonly subject: string
  /** `iss`, one of the configured issuers */
  readonly issuer: string
  /** `aud`, always a list */
  readonly audience: readonly string[]
  /** From `scope` (space-separated) or `scp` (list or string). */
  readonly scopes: readonly string[]
  /** Every claim of the verified token. */
  readonly claims: Readonly<JWTPayload>
  /** `exp` as a Date. */
  readonly expiresAt: Date
}

/** A token failure: the answer is 401 `invalid_token` with this short reason. */
export class TokenRefused extends Error {}

/** The policy shared by every issuer, resolved from the plugin options. */
export interface VerifyPolicy {
  /** Accepted `typ` values, normalised (lower case, no `application/`), or undefined for no check. */
  typ: Set<string> | undefined
  clockToleranceSeconds: number
  maxTokenAgeSeconds: number | undefined
  requiredClaims: string[]
  /** Set only when the plugin was given a clock: jose otherwise reads the system time itself. */
  now: (() => number) | undefined
}

export interface Verified {
  auth: JwtAuth
  /** When the token stops being acceptable (exp, or iat + maxTokenAge), ms since the epoch. */
  validUntil: number
}

/** The `iss` of a token, read without verification only to pick the issuer's configuration. */
export function unverifiedIssuer (token: string): string {
  let payload: JWTPayload
  try {
    payload = decodeJwt(token)
  } catch {
    throw new TokenRefused('malformed token')
  }
  if (typeof payload.iss !== 'string') throw new TokenRefused('missing iss claim')
  return payload.iss
}

export function normaliseTyp (typ: string): string {
  const lower = typ.toLowerCase()
  return lower.startsWith('application/') ? lower.slice('application/'.length) : lower
}

function deepFreeze<T> (value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const v of Object.values(value)) deepFreeze(v)
  }
  return value
}

const CLAIM_REASONS: Record<string, string> = {
  nbf: 'not yet valid',
  aud: 'wrong audience',
  iss: 'wrong issuer',
  iat: 'issued in the future',
}

/** jose's error codes, as the short reason a client gets in `error_description`. */
export function reasonFor (err: unknown): string {
  const e = err as { code?: string; claim?: string; reason?: string }
  switch (e.code) {
    case 'ERR_JWT_EXPIRED':
      return e.claim === 'iat' ? 'too old' : 'expired'
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      if (e.reason === 'missing') return `missing ${e.claim} claim`
      return CLAIM_REASONS[e.claim as string] ?? `invalid ${e.claim} claim`
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return 'algorithm not allowed'
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return 'bad signature'
    case 'ERR_JWKS_NO_MATCHING_KEY':
      return 'unknown key'
    case 'ERR_JOSE_NOT_SUPPORTED':
      return 'unsupported token header'
    case 'ERR_JWS_INVALID':
    case 'ERR_JWT_INVALID':
      return 'malformed token'
    default:
      // jose throws TypeError for keys it will not use (an RSA key under 2048 bits).
      return err instanceof TypeError ? 'key not accepted' : 'invalid token'
  }
}

async function verifyWithKeys (token: string, issuer: Issuer, options: JWTVerifyOptions): Promise<JWTVerifyResult> {
  if (issuer.keys instanceof Uint8Array) return await jwtVerify(token, issuer.keys, options)
  try {
    return await jwtVerify(token, issuer.keys.getKey, options)
  } catch (err) {
    // Several keys fit (no kid, say): jose hands them over to be tried in turn.
    if ((err as { code?: string }).code !== 'ERR_JWKS_MULTIPLE_MATCHING_KEYS') throw err
    let last: unknown = err
    for await (const key of err as AsyncIterable<Awaited<ReturnType<JWTVerifyGetKey>>>) {
      try {
        return await jwtVerify(token, key, options)
      } catch (e) {
        last = e
        if ((e as { code?: string }).code !== 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED') break
      }
    }
    throw last
  }
}

/**
 * Verifies `token` for `issuer` under `policy`: jose checks signature,
 * algorithm allowlist, `crit`, iss, aud, exp, nbf, iat age and required
 * claims; this adds the `typ` list (jose takes one value) and `sub`.
 * Throws TokenRefused (401) or KeysUnavailable (503).
 */
export async function verifyToken (token: string, issuer: Issuer, policy: VerifyPolicy): Promise<Verified> {
  const options: JWTVerifyOptions = {
    issuer: issuer.issuer,
    audience: issuer.audience,
    algorithms: issuer.algorithms,
    clockTolerance: policy.clockToleranceSeconds,
    requiredClaims: policy.requiredClaims,
  }
  if (policy.maxTokenAgeSeconds !== undefined) options.maxTokenAge = policy.maxTokenAgeSeconds
  if (policy.now !== undefined) options.currentDate = new Date(policy.now())
  let result: JWTVerifyResult
  try {
    result = await verifyWithKeys(token, issuer, options)
  } catch (err) {
    if (err instanceof KeysUnavailable) throw err
    throw new TokenRefused(reasonFor(err))
  }
  const { payload, protectedHeader } = result
  if (policy.typ !== undefined && (typeof protectedHeader.typ !== 'string' || !policy.typ.has(normaliseTyp(protectedHeader.typ)))) {
    throw new TokenRefused('wrong token type')
  }
  if (typeof payload.sub !== 'string' && payload.sub !== undefined) throw new TokenRefused('invalid sub claim')
  const aud = payload.aud
  const auth: JwtAuth = {
    subject: payload.sub as string,
    issuer: issuer.issuer,
    // Present: jose checks it against the issuer's audience.
    audience: typeof aud === 'string' ? [aud] : (aud as string[]),
    scopes: scopesOf(payload),
    claims: payload,
    expiresAt: new Date((payload.exp as number) * 1000),
  }
  let validUntil = typeof payload.exp === 'number' ? payload.exp * 1000 : Number.POSITIVE_INFINITY
  if (policy.maxTokenAgeSeconds !== undefined) validUntil = Math.min(validUntil, ((payload.iat as number) + policy.maxTokenAgeSeconds) * 1000)
  return { auth: deepFreeze(auth), validUntil }
}
