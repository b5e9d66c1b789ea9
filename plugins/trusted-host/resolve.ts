import { parseEntry } from './entries.js'
import { compileMatcher, type HostMatcher } from './matcher.js'

/** Allowlist strings in, compiled matcher out; every bad entry is pushed onto `problems`. */
export function resolveMatcher (hosts: string[], path: string, problems: string[]): HostMatcher {
  const entries = []
  for (let i = 0; i < hosts.length; i++) {
    const entry = parseEntry(hosts[i], `${path}[${i}]`, problems)
    if (entry !== undefined) entries.push(entry)
  }
  return compileMatcher(entries)
}
