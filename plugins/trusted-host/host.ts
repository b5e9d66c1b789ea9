import { isIPv4, isIPv6 } from 'node:net'
import ipaddr from 'ipaddr.js'

// Strict Host / :authority parsing. RFC 9110 §7.2 and RFC 3986 §3.2.2 allow
// far more than a server should accept (userinfo, percent-encoding, empty
// ports); like Django's host validation we accept only an LDH host name, an
// IPv4 literal or a bracketed IPv6 literal, then an optional port.
// https://datatracker.ietf.org/doc/html/rfc9110#section-7.2

export interface ParsedHost {
  /** Lowercase, no trailing dot; IPv6 in brackets and canonical form. */
  hostname: string
  /** Explicit port, or undefined when the authority had none. */
  port: number | undefined
  /** True for IPv4 and IPv6 literals. */
  ip: boolean
}

const AUTHORITY =
  /^(?:([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*)\.?|\[([0-9a-f:.]+)\])(?::([1-9][0-9]{0,4}))?$/
const NUMERIC_LABEL = /(?:^|\.)[0-9]+$/

/** Parses an authority (`host[:port]`) or returns undefined when it is not one we accept. */
export function parseHost (value: string): ParsedHost | undefined {
  if (value.length === 0 || value.length > 261) return undefined
  const match = AUTHORITY.exec(value.toLowerCase())
  if (match === null) return undefined
  let port: number | undefined
  if (match[3] !== undefined) {
    // One rule for leading zeros: refused (`:080`, `:00080`, `:000080` alike), and so is port 0.
    port = Number(match[3])
    if (port > 65535) return undefined
  }
  if (match[2] !== undefined) {
    if (!isIPv6(match[2])) return undefined
    return { hostname: `[${ipaddr.parse(match[2]).toString()}]`, port, ip: true }
  }
  const hostname = match[1]
  if (hostname.length > 253) return undefined
  // A name whose last label is numeric is an IPv4 address to a browser
  // (WHATWG URL host parser), so it must be a valid one.
  if (NUMERIC_LABEL.test(hostname)) {
    return isIPv4(hostname) ? { hostname, port, ip: true } : undefined
  }
  return { hostname, port, ip: false }
}

const ABSOLUTE_FORM = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i

/**
 * The authority of an absolute-form request target (`GET http://a.example/ HTTP/1.1`),
 * '' when the target has none, or undefined for the usual origin-form (`/path`).
 */
export function absoluteFormAuthority (url: string): string | undefined {
  if (url.charCodeAt(0) === 47 /* / */ || url === '*') return undefined
  const match = ABSOLUTE_FORM.exec(url)
  return match === null ? '' : match[1]
}
