import type { GcraDecision, GcraParams } from './gcra.js'

/**
 * What a rate-limit store does: apply one GCRA decision to one key,
 * atomically, with the store's own clock. Memory and Redis implement it;
 * anything else (Valkey works through the Redis store, Memcached would need
 * its own CAS loop) can too.
 */
export interface RateLimitStore {
  consume(key: string, params: GcraParams, cost: number): GcraDecision | Promise<GcraDecision>
  close?(): void | Promise<void>
}
