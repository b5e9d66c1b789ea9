import { X509Certificate } from 'node:crypto'
import type { TLSSocket } from 'node:tls'
import { pathToRoots } from './chain.js'
import { leafFacts } from './der.js'
import { checkSpiffeId, type SpiffeId } from './spiffe-id.js'

// The leaf rules of the X509-SVID standard as go-spiffe's x509svid.Verify
// applies them, ported by hand (Node has no SPIFFE SDK):
// https://github.com/spiffe/spiffe/blob/main/standards/X509-SVID.md

export type PeerVerdict =
  | { ok: true; id: SpiffeId; chain: X509Certificate[] }
  /** 401: no certificate, or the TLS layer did not authenticate it. */
  | { ok: false; status: 401; reason: string; id?: undefined }
  /** 403: authenticated, but not a usable X509-SVID for this server. */
  | { ok: false; status: 403; reason: string; id?: SpiffeId }

/** Trust domain name → its root certificates. */
export type Bundles = ReadonlyMap<string, readonly X509Certificate[]>

/** The peer's certificates as DER, leaf first, as the TLS layer linked them. */
export function peerChain (socket: TLSSocket): Buffer[] {
  const out: Buffer[] = []
  let cert = socket.getPeerCertificate(true)
  // Bounded: the last certificate is its own issuer.
  while (cert?.raw !== undefined && out.length < 16) {
    out.push(cert.raw)
    if (cert.issuerCertificate === cert) break
    cert = cert.issuerCertificate
  }
  return out
}

function refuse (reason: string, id?: SpiffeId): PeerVerdict {
  return { ok: false, status: 403, reason, id }
}

/** The one SPIFFE ID among a certificate's URI SANs, or why there is none. */
export function idFromUris (uris: readonly string[]): SpiffeId | string {
  if (uris.length !== 1) return uris.length === 0 ? 'the certificate has no URI SAN' : 'the certificate has more than one URI SAN'
  const id = checkSpiffeId(uris[0])
  return typeof id === 'string' ? `the URI SAN is not a valid SPIFFE ID: ${id}` : id
}

/**
 * Judges a TLS peer: `authorized` is the socket's own verdict, `ders` its
 * chain (leaf first). Only an authenticated leaf X509-SVID whose chain ends
 * at its own trust domain's bundle gets an ID.
 */
export function verifyPeer (authorized: boolean, ders: readonly Buffer[], bundles: Bundles, now: number): PeerVerdict {
  if (!authorized || ders.length === 0) return { ok: false, status: 401, reason: ders.length === 0 ? 'no client certificate' : 'client certificate not trusted' }
  let facts
  try {
    facts = leafFacts(ders[0])
  } catch {
    return refuse('the client certificate could not be read')
  }
  // Node's TLS layer accepts a CA certificate under a trusted root as a client certificate.
  if (facts.ca) return refuse('the client certificate is a CA certificate')
  if (facts.signsCertificates) return refuse('the client certificate may sign certificates or CRLs')
  if (facts.notForClients) return refuse('the client certificate is not for client authentication')
  const id = idFromUris(facts.uris)
  if (typeof id === 'string') return refuse(id)
  if (id.path === '') return refuse('a leaf SPIFFE ID must have a path', id)
  const roots = bundles.get(id.trustDomain)
  if (roots === undefined) return refuse('no trust bundle for the ID\'s trust domain', id)
  const [leaf, ...rest] = ders.map((der) => new X509Certificate(der))
  const chain = pathToRoots(leaf, rest, roots, now)
  if (chain === undefined) return refuse('the chain does not end at the bundle of the ID\'s trust domain', id)
  return { ok: true, id, chain }
}
