import { domainToASCII } from 'node:url'
import { isPublicSuffix } from '../../lib/public-suffix.js'
import { parseHost } from './host.js'

// Allowlist entries, normalised once at registration. A wildcard is only a
// leading "*." label; it matches any depth below, never the apex.

export type HostEntry =
  | { kind: 'any' }
  | { kind: 'exact'; hostname: string; port: number | undefined }
  | { kind: 'wildcard'; suffix: string; port: number | undefined }

function toASCII (entry: string): string | undefined {
  // Only the host part is converted; the port and brackets pass through.
  const colon = entry.lastIndexOf(':')
  const host = colon === -1 ? entry : entry.slice(0, colon)
  const rest = colon === -1 ? '' : entry.slice(colon)
  const ascii = domainToASCII(host)
  return ascii === '' ? undefined : ascii + rest
}

export function parseEntry (raw: string, where: string, problems: string[]): HostEntry | undefined {
  if (raw === '*') return { kind: 'any' }
  if (raw.length === 0) {
    problems.push(`${where}: must not be empty`)
    return undefined
  }
  if (raw.includes('/')) {
    problems.push(`${where}: must be a host, without a scheme or a path`)
    return undefined
  }
  const wildcard = raw.startsWith('*.')
  let rest = wildcard ? raw.slice(2) : raw
  if (rest.includes('*')) {
    problems.push(`${where}: a wildcard must be a whole leading label ("*.example.com")`)
    return undefined
  }
  // IDN to punycode; text with spaces or control characters is left to fail the parse.
  if (/[^\x21-\x7e]/.test(rest) && !/[\s\p{Cc}]/u.test(rest)) rest = toASCII(rest) ?? rest
  const parsed = parseHost(rest)
  if (parsed === undefined) {
    problems.push(`${where}: must be a host name, an IPv4 address or a bracketed IPv6 address, with an optional port`)
    return undefined
  }
  if (!wildcard) return { kind: 'exact', hostname: parsed.hostname, port: parsed.port }
  if (parsed.ip) {
    problems.push(`${where}: a wildcard cannot cover an IP address`)
    return undefined
  }
  if (isPublicSuffix(parsed.hostname)) {
    problems.push(`${where}: a wildcard directly over a public suffix would trust every site under it`)
    return undefined
  }
  return { kind: 'wildcard', suffix: `.${parsed.hostname}`, port: parsed.port }
}
