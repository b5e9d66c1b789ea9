import { isPublicSuffix } from '../../lib/public-suffix.js'

// Allowed origins, normalised once: an exact Set plus subdomain patterns.
// No regular expression is built from configuration; an Origin header is
// compared as the exact string browsers send (lowercase, default port
// omitted), so lookalikes such as `https://app.example.com.evil.com` or
// `HTTPS://APP.EXAMPLE.COM` never match.

export interface OriginPattern {
  /** `https://` */
  prefix: string
  /** `.example.com` or `.example.com:8443` */
  suffix: string
}

export interface OriginList {
  any: boolean
  exact: Set<string>
  /**
   * Wildcard patterns as `prefix + suffix` (`https://.example.com:8443`), so
   * an Origin costs one lookup per label of its host, however long the list
   * (issue 10: a scan over 100k patterns cost about 8 ms per request).
   */
  patterns: Set<string>
}

const SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i
const WILDCARD_HOST = 'rampart-wildcard-label'
// What may stand for `*` in an Origin: one or more DNS labels.
const LABELS = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*$/

/** Serialises `scheme://host[:port]` the way browsers send it in Origin, or undefined. */
function serialise (entry: string): string | undefined {
  let url: URL
  try {
    url = new URL(entry)
  } catch {
    return undefined
  }
  if (url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') return undefined
  if (url.host === '') return undefined
  // `new URL` adds "/" to an empty path of special schemes: the entry itself must have none.
  const afterScheme = entry.slice(entry.indexOf('//') + 2)
  if (afterScheme.includes('/') || afterScheme.includes('?') || afterScheme.includes('#')) return undefined
  return `${url.protocol}//${url.host}`
}

export type ParsedOrigin = { kind: 'any' } | { kind: 'exact'; origin: string } | { kind: 'pattern'; pattern: OriginPattern }

export function parseOrigin (raw: string, where: string, problems: string[]): ParsedOrigin | undefined {
  if (raw === '*') return { kind: 'any' }
  if (raw.toLowerCase() === 'null') {
    problems.push(`${where}: "null" is set with allowNullOrigin, not listed (sandboxed frames and file: pages all send it)`)
    return undefined
  }
  const scheme = SCHEME.exec(raw)
  if (scheme === null) {
    problems.push(`${where}: must be an origin such as https://app.example.com (scheme, host, optional port)`)
    return undefined
  }
  const rest = raw.slice(scheme[0].length)
  const wildcard = rest.startsWith('*.')
  if ((wildcard ? rest.slice(2) : rest).includes('*')) {
    problems.push(`${where}: a wildcard must be a whole leading label (https://*.example.com)`)
    return undefined
  }
  const serialised = serialise(wildcard ? `${scheme[0]}${WILDCARD_HOST}.${rest.slice(2)}` : raw)
  if (serialised === undefined) {
    problems.push(`${where}: must be scheme://host[:port] with no path, query, trailing slash or userinfo`)
    return undefined
  }
  if (!wildcard) return { kind: 'exact', origin: serialised }
  const prefix = serialised.slice(0, serialised.indexOf('//') + 2)
  const suffix = serialised.slice(prefix.length + WILDCARD_HOST.length)
  const host = suffix.slice(1).replace(/:\d+$/, '')
  // (An IP under a wildcard never gets here: `x.1.2.3.4` does not parse as a URL host.)
  if (isPublicSuffix(host)) {
    problems.push(`${where}: a wildcard directly over a public suffix would trust every site under it`)
    return undefined
  }
  return { kind: 'pattern', pattern: { prefix, suffix } }
}

export function compileOrigins (entries: ParsedOrigin[]): OriginList {
  const list: OriginList = { any: false, exact: new Set(), patterns: new Set() }
  for (const entry of entries) {
    if (entry.kind === 'any') list.any = true
    else if (entry.kind === 'exact') list.exact.add(entry.origin)
    else list.patterns.add(entry.pattern.prefix + entry.pattern.suffix)
  }
  return list
}

// `scheme://` plus at most a 253-character host and a port: longer can match no pattern.
const MAX_AUTHORITY = 253 + 6

/** True when the Origin header value is on the list (never true for `*`: the caller decides what `*` sends). */
export function matchOrigin (list: OriginList, origin: string): boolean {
  if (list.exact.has(origin)) return true
  if (list.patterns.size === 0) return false
  const start = origin.indexOf('://') + 3
  if (start === 2 || origin.length - start > MAX_AUTHORITY) return false
  const prefix = origin.slice(0, start)
  // Each suffix starting at a dot of the authority; what stands before it must be whole DNS labels.
  for (let dot = origin.indexOf('.', start); dot !== -1; dot = origin.indexOf('.', dot + 1)) {
    if (list.patterns.has(prefix + origin.slice(dot)) && LABELS.test(origin.slice(start, dot))) return true
  }
  return false
}
