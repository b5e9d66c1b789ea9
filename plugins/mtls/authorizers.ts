import type { X509Certificate } from 'node:crypto'
import { InvalidSpiffeIdError } from '../../lib/errors.js'
import { parseSpiffeId, SpiffeId, trustDomainProblem } from './spiffe-id.js'

// Ports of go-spiffe's tlsconfig authorizers (spiffetls/tlsconfig/authorizer.go):
// tiny functions over a parsed ID, so "who may call" compares whole trust
// domains and paths, never substrings of a URI.

/**
 * Decides whether an authenticated peer may make this request. `chain` is
 * the verified path, leaf first, ending at the trust domain's root (empty
 * for an identity forwarded by a trusted proxy).
 */
export type MtlsAuthorizer = (id: SpiffeId, chain: readonly X509Certificate[]) => boolean

function toId (id: string | SpiffeId): SpiffeId {
  return id instanceof SpiffeId ? id : parseSpiffeId(id)
}

/** Any authenticated peer with a valid SPIFFE ID. Must be named explicitly: there is no default. */
export function authorizeAny (): MtlsAuthorizer {
  return function anyPeer () {
    return true
  }
}

/** Exactly this SPIFFE ID. */
export function authorizeID (allowed: string | SpiffeId): MtlsAuthorizer {
  const want = toId(allowed)
  return function exactId (id) {
    return id.equals(want)
  }
}

/** One of these SPIFFE IDs (as arguments or one list). */
export function authorizeOneOf (...allowed: (string | SpiffeId | (string | SpiffeId)[])[]): MtlsAuthorizer {
  const wanted = new Set(allowed.flat().map((id) => toId(id).toString()))
  return function oneOfIds (id) {
    return wanted.has(id.toString())
  }
}

/** Any ID in this trust domain (`'example.org'` or `'spiffe://example.org'`), compared as a whole name. */
export function authorizeMemberOf (trustDomain: string): MtlsAuthorizer {
  if (typeof trustDomain !== 'string') throw new InvalidSpiffeIdError('a trust domain must be a string')
  const name = trustDomain.startsWith('spiffe://') ? parseSpiffeId(trustDomain).trustDomain : trustDomain
  const problem = trustDomainProblem(name)
  if (problem !== undefined) throw new InvalidSpiffeIdError(problem)
  return function memberOf (id) {
    return id.memberOf(name)
  }
}
