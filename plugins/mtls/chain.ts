import { X509Certificate } from 'node:crypto'

// The path check of go-spiffe's x509svid.Verify (svid/x509svid/verify.go),
// ported by hand: the TLS layer verified the peer against every bundle at
// once (`ca` holds them all), so a b.org CA could have vouched for a
// `spiffe://a.org/...` leaf. Here the path is rebuilt with only the ID's
// own trust domain's roots as anchors.

/** Longest path tried, leaf to root; SPIRE deployments use two or three. */
const MAX_DEPTH = 8

function validAt (cert: X509Certificate, now: number): boolean {
  return Date.parse(cert.validFrom) <= now && now <= Date.parse(cert.validTo)
}

function issues (parent: X509Certificate, child: X509Certificate, now: number): boolean {
  return parent.ca && validAt(parent, now) && child.checkIssued(parent) && child.verify(parent.publicKey)
}

/**
 * The path from `leaf` through `intermediates` (what the peer sent) to one
 * of `roots`, leaf first and root last, or undefined when there is none.
 */
export function pathToRoots (
  leaf: X509Certificate,
  intermediates: readonly X509Certificate[],
  roots: readonly X509Certificate[],
  now: number,
  maxDepth = MAX_DEPTH
): X509Certificate[] | undefined {
  function extend (path: X509Certificate[]): X509Certificate[] | undefined {
    const child = path[path.length - 1]
    const root = roots.find((r) => issues(r, child, now))
    if (root !== undefined) return [...path, root]
    if (path.length >= maxDepth) return undefined
    for (const ca of intermediates) {
      if (path.includes(ca) || !issues(ca, child, now)) continue
      const found = extend([...path, ca])
      if (found !== undefined) return found
    }
    return undefined
  }
  return validAt(leaf, now) ? extend([leaf]) : undefined
}

const PEM_CERT = /-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g

/** Every certificate in a PEM bundle; throws when one does not parse or there is none. */
export function parseBundle (pem: string): X509Certificate[] {
  const blocks = pem.match(PEM_CERT) ?? []
  if (blocks.length === 0) throw new Error('contains no PEM certificate')
  return blocks.map((block) => new X509Certificate(block))
}
