import { parse as parseDomain } from 'tldts'

/**
 * A wildcard directly over a public suffix (`*.com`, `*.co.uk`, `*.github.io`)
 * would trust every site under it. The Public Suffix List (through tldts)
 * decides; single-label names count too (PSL's default rule), except
 * `localhost`, whose subdomains RFC 6761 reserves for loopback.
 */
export function isPublicSuffix (suffix: string): boolean {
  if (suffix === 'localhost') return false
  return parseDomain(suffix, { allowPrivateDomains: true }).publicSuffix === suffix
}
