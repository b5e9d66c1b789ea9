import type { HostEntry } from './entries.js'

/**
 * Compiled allowlist: a Map for exact hosts and a short list of suffixes for
 * wildcards. No regular expression is ever built from configuration.
 */
export interface HostMatcher {
  allowsAny: boolean
  /** hostname → allowed ports (`null`: any port). */
  exact: Map<string, Set<number> | null>
  wildcards: { suffix: string; port: number | undefined }[]
}

export function compileMatcher (entries: HostEntry[]): HostMatcher {
  const matcher: HostMatcher = { allowsAny: false, exact: new Map(), wildcards: [] }
  for (const entry of entries) {
    if (entry.kind === 'any') {
      matcher.allowsAny = true
    } else if (entry.kind === 'wildcard') {
      matcher.wildcards.push({ suffix: entry.suffix, port: entry.port })
    } else if (entry.port === undefined) {
      matcher.exact.set(entry.hostname, null)
    } else {
      const ports = matcher.exact.get(entry.hostname)
      if (ports === undefined) matcher.exact.set(entry.hostname, new Set([entry.port]))
      else if (ports !== null) ports.add(entry.port)
    }
  }
  return matcher
}

/** `port` is the effective port: the explicit one, or the scheme's default. */
export function matchHost (matcher: HostMatcher, hostname: string, port: number): boolean {
  if (matcher.allowsAny) return true
  const ports = matcher.exact.get(hostname)
  if (ports === null || (ports !== undefined && ports.has(port))) return true
  for (let i = 0; i < matcher.wildcards.length; i++) {
    const w = matcher.wildcards[i]
    if (hostname.length > w.suffix.length && hostname.endsWith(w.suffix) && (w.port === undefined || w.port === port)) {
      return true
    }
  }
  return false
}

/** True when an exact entry (not a wildcard or `*`) names this host. */
export function listsExactly (matcher: HostMatcher, hostname: string): boolean {
  return matcher.exact.has(hostname)
}
