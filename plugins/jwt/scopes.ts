import type { JWTPayload } from 'jose'

const NONE: readonly string[] = Object.freeze([])

/** Scopes from `scope` (space-separated, RFC 9068 / RFC 8693) or, failing that, `scp` (a list or a string). */
export function scopesOf (claims: JWTPayload): readonly string[] {
  const value = typeof claims.scope === 'string' ? claims.scope : claims.scp
  if (typeof value === 'string') return value.split(' ').filter((s) => s !== '')
  if (Array.isArray(value)) return value.filter((s): s is string => typeof s === 'string')
  return NONE
}

/** A route's scope requirement, compiled at route add. */
export interface ScopeRule {
  /** All of these. */
  all: readonly string[]
  /** At least one of these (empty: no such requirement). */
  any: readonly string[]
  /** The `scope` attribute of a 403: what the route needs. */
  needed: string
}

export function scopeRule (all: readonly string[] = [], any: readonly string[] = []): ScopeRule | undefined {
  if (all.length === 0 && any.length === 0) return undefined
  return { all, any, needed: [...new Set([...all, ...any])].join(' ') }
}

export function scopesAllow (rule: ScopeRule, scopes: readonly string[]): boolean {
  for (const s of rule.all) if (!scopes.includes(s)) return false
  if (rule.any.length === 0) return true
  for (const s of rule.any) if (scopes.includes(s)) return true
  return false
}
