// The decision pieces: which bucket a request is checked against, and which
// of its buckets speaks for the response. Pure functions; the store calls
// are in limiter.ts, the Fastify glue in plugin.ts.

import type { Bucket } from './buckets.js'
import type { GcraDecision } from './gcra.js'
import type { RouteLimit } from './resolve.js'

/** The store could not be asked: `onStoreError` said let through (OPEN) or refuse with 503 (CLOSED). */
export const OPEN = Symbol('rampart.rateLimit.open')
export const CLOSED = Symbol('rampart.rateLimit.closed')
export type Outcome = GcraDecision | typeof OPEN | typeof CLOSED

/** A route's bucket, or its tier's when the request names a known tier. */
export function pickBucket (route: RouteLimit, tier: string | undefined): Bucket {
  if (tier === undefined || route.tiers === undefined) return route.bucket
  return route.tiers.get(tier) ?? route.bucket
}

/**
 * The decision the response headers describe when both an IP and a principal
 * bucket were checked: a refusal, else the one with fewer requests left.
 * Returns 'principal' when the principal's bucket speaks, 'ip' otherwise.
 */
export function binding (ip: Outcome, principal: Outcome): 'ip' | 'principal' {
  if (principal === OPEN || principal === CLOSED) return 'ip'
  if (ip === OPEN || ip === CLOSED) return 'principal'
  if (!ip.allowed) return 'ip'
  if (!principal.allowed || principal.remaining < ip.remaining) return 'principal'
  return 'ip'
}
