import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { invalidGrant } from '../lib/errors.js'

// PKCE (RFC 7636) on node:crypto: a SHA-256 and a constant-time compare are
// all it takes, and a library would bring the plain method we refuse.

/** RFC 7636 §4.1: 43-128 unreserved characters. */
const VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/
/** base64url of a SHA-256 digest, unpadded: exactly 43 characters. */
const CHALLENGE = /^[A-Za-z0-9_-]{43}$/

export interface VerifyPkceInput {
  verifier: unknown
  challenge: unknown
  method: unknown
}

/** The S256 challenge of `verifier`: BASE64URL(SHA256(ASCII(verifier))). Throws on a verifier RFC 7636 would refuse. */
export function pkceChallenge (verifier: string): string {
  if (typeof verifier !== 'string' || !VERIFIER.test(verifier)) {
    throw new TypeError('a PKCE code_verifier must be 43-128 characters of A-Z a-z 0-9 . _ ~ -')
  }
  return createHash('sha256').update(verifier, 'ascii').digest('base64url')
}

/** A fresh verifier (256 random bits) and its S256 challenge, for clients and tests. */
export function createPkcePair (): { verifier: string; challenge: string; method: 'S256' } {
  const verifier = randomBytes(32).toString('base64url')
  return { verifier, challenge: pkceChallenge(verifier), method: 'S256' }
}

/**
 * True when `verifier` answers `challenge` with S256. `plain` and a missing
 * method are false: RFC 9700 §2.1.1 says S256, and plain only helps an
 * attacker who can read the authorization request. Never throws: anything
 * malformed is simply false.
 */
export function verifyPkce ({ verifier, challenge, method }: VerifyPkceInput): boolean {
  if (method !== 'S256') return false
  if (typeof verifier !== 'string' || !VERIFIER.test(verifier)) return false
  if (typeof challenge !== 'string' || !CHALLENGE.test(challenge)) return false
  // Both are 43 ASCII characters here, so the buffers have equal lengths.
  return timingSafeEqual(Buffer.from(pkceChallenge(verifier)), Buffer.from(challenge))
}

export interface AssertPkceInput {
  /** The code_challenge saved with the authorization code, if the request had one. */
  storedChallenge?: string | null | undefined
  /** The code_challenge_method saved with it (must be 'S256'). */
  storedMethod?: string | null | undefined
  /** The code_verifier of the token request, if any. */
  verifier?: unknown
}

function present (value: unknown): boolean {
  return value !== undefined && value !== null && value !== ''
}

/**
 * The token endpoint's PKCE rule, with the downgrade cases of RFC 9700
 * §2.1.1: a code issued with a challenge needs a matching verifier, and a
 * verifier for a code issued without one is refused (an attacker stripping
 * the challenge from the authorization request must not get a code that
 * redeems without it). Neither present: PKCE was not used, and passes here;
 * require code_challenge at your authorization endpoint to make it mandatory.
 * Throws FST_RAMPART_OAUTH_INVALID_GRANT.
 */
export function assertPkce ({ storedChallenge, storedMethod, verifier }: AssertPkceInput): void {
  const hasChallenge = present(storedChallenge)
  const hasVerifier = present(verifier)
  if (!hasChallenge && !hasVerifier) return
  if (hasChallenge && !hasVerifier) throw invalidGrant('code_verifier required')
  if (!hasChallenge) throw invalidGrant('code_verifier given but the authorization request had no code_challenge')
  if (!verifyPkce({ verifier, challenge: storedChallenge, method: storedMethod })) {
    throw invalidGrant('PKCE verification failed')
  }
}
