import type { GcraDecision, GcraParams } from './gcra.js'

/**
 * What a rate-limit store does: apply one GCRA decision to one key,
 * atomically, with the store's own clock. Memory and Redis implement it;
 * anything else (Valkey works through the Redis store, Memcached would need
 * its own CAS loop) can too. A negative `cost` is a reward (units given
 * back, see `fastify.rateLimit.reward`).
 */
export interface RateLimitStore {
  consume(key: string, params: GcraParams, cost: number): GcraDecision | PromiseLike<GcraDecision>
  close?(): void | Promise<void>
}

function isCount (value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0
}

/**
 * A store's answer, checked before it decides anything: a custom store
 * returning `null`, `42`, `{}` or NaN fields must become a store failure
 * (logged, `onStoreError`), never a 500 or a `Retry-After: NaN` header.
 * Returns a clean copy, or undefined when the answer is not a decision.
 */
export function validDecision (value: unknown): GcraDecision | undefined {
  if (typeof value !== 'object' || value === null) return undefined
  const d = value as Record<string, unknown>
  if (typeof d.allowed !== 'boolean' || !isCount(d.remaining) || !isCount(d.resetMs)) return undefined
  const retryAfterMs = d.retryAfterMs ?? 0
  // Infinity is a real answer: a cost this bucket can never pass.
  if (typeof retryAfterMs !== 'number' || Number.isNaN(retryAfterMs) || retryAfterMs < 0) return undefined
  return {
    allowed: d.allowed,
    debtMs: typeof d.debtMs === 'number' && Number.isFinite(d.debtMs) ? d.debtMs : 0,
    remaining: Math.floor(d.remaining),
    resetMs: d.resetMs,
    retryAfterMs: d.allowed ? 0 : retryAfterMs,
  }
}

/** Any thenable, not only native promises (a store may use another promise library). */
export function isThenable (value: unknown): value is PromiseLike<unknown> {
  return (typeof value === 'object' || typeof value === 'function') && value !== null && typeof (value as { then?: unknown }).then === 'function'
}
