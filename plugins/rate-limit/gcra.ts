// GCRA, the generic cell rate algorithm (as in redis-cell and throttled):
// a bucket is one number, its debt — how far the theoretical arrival time
// (TAT) lies ahead of now. Each request adds `cost × interval` of debt,
// time pays it back, and a request fits while the debt stays within the
// burst capacity. One stored timestamp per key, no window edges.
// https://en.wikipedia.org/wiki/Generic_cell_rate_algorithm

export interface GcraParams {
  /** Sustained rate: `limit` requests per `windowMs`. */
  limit: number
  windowMs: number
  /** Requests that may arrive at once (bucket size). */
  burst: number
}

export interface GcraDecision {
  allowed: boolean
  /** Debt after this request (ms); what the store saves as `now + debt`. Unchanged when denied. */
  debtMs: number
  /** Requests of cost 1 that would still pass right now. */
  remaining: number
  /** Ms until the bucket is full again (allowed), or until this request would pass (denied). */
  resetMs: number
  /** Ms until this request would pass; 0 when allowed, Infinity when its cost exceeds the burst. */
  retryAfterMs: number
}

/** Ms of debt one request of cost 1 adds. */
export function intervalMs (params: GcraParams): number {
  return params.windowMs / params.limit
}

// Float error must never turn "exactly full" into "one over".
const EPSILON = 1e-6

/** Decides one request of `cost` against a bucket whose current debt is `debtBeforeMs` (≥ 0). */
export function decide (debtBeforeMs: number, params: GcraParams, cost: number): GcraDecision {
  const interval = intervalMs(params)
  const capacity = interval * params.burst
  // A reward (negative cost) pays debt back, never below an empty bucket.
  const debt = Math.max(0, debtBeforeMs + interval * cost)
  if (debt <= capacity + EPSILON) {
    return {
      allowed: true,
      debtMs: debt,
      remaining: Math.max(0, Math.floor((capacity - debt) / interval + EPSILON)),
      resetMs: debt,
      retryAfterMs: 0,
    }
  }
  const retryAfterMs = cost > params.burst ? Number.POSITIVE_INFINITY : debt - capacity
  return {
    allowed: false,
    debtMs: debtBeforeMs,
    remaining: Math.max(0, Math.floor((capacity - debtBeforeMs) / interval + EPSILON)),
    resetMs: retryAfterMs,
    retryAfterMs,
  }
}

/** The same decision from a stored TAT (ms since the epoch) and a clock reading. */
export function decideAt (tat: number | undefined, now: number, params: GcraParams, cost: number): GcraDecision {
  const debtBefore = tat === undefined || tat < now ? 0 : tat - now
  return decide(debtBefore, params, cost)
}
