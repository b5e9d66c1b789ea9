import { toMs } from '../../lib/duration.js'
import type { RateLimitOptions } from '../../schemas/rate-limit.js'
import type { GcraParams } from './gcra.js'

/** A limit as the hook uses it: ready GCRA parameters and the RateLimit-Policy value. */
export interface Bucket {
  name: string
  params: GcraParams
  cost: number
  /** A sliding log (at most `limit` in any window) instead of GCRA. */
  strict: boolean
  /** `"name";q=<limit>;w=<seconds>` (IETF httpapi ratelimit-headers). */
  policy: string
  /** The limit, as text for X-RateLimit-Limit. */
  limitText: string
  /** The window in whole seconds (what a request that can never pass is told to wait). */
  windowSeconds: number
  /** `"name"`, the start of every RateLimit value. */
  nameField: string
  /** Store key prefixes for the IP and principal buckets. */
  ipPrefix: string
  principalPrefix: string
  /** The last header texts written for this bucket (see `textsFor`). */
  texts: LimitTexts
  /** The last client key and its store key (see `ipStoreKey`). */
  lastIp: { client: string | undefined; key: string }
}

/**
 * The per-decision header texts. Consecutive responses of a bucket mostly
 * announce the same remaining count and reset (a busy bucket with a high
 * limit, or a client's burst), so the last ones are kept and reused: no
 * number formatting and no new strings for Node to flatten (issue 17).
 */
export interface LimitTexts {
  remaining: number
  seconds: number
  /** The RateLimit field value: `"name";r=<remaining>;t=<seconds>`. */
  value: string
  remainingText: string
  secondsText: string
}

export interface LimitInput {
  limit: number
  window: number | string
  burst?: number | undefined
  strict?: boolean | undefined
}

/** A sliding log keeps one entry per passed request: bounded, so strict limits are small. */
export const STRICT_MAX_LIMIT = 1000

/** sf-string: `"` and `\` escaped (RFC 9651 §3.3.3). */
function sfString (value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`
}

export function makeBucket (name: string, limits: LimitInput, cost: number): Bucket {
  const windowMs = toMs(limits.window)
  const burst = limits.burst ?? limits.limit
  return {
    name,
    params: { limit: limits.limit, windowMs, burst },
    cost,
    strict: limits.strict === true,
    policy: `${sfString(name)};q=${limits.limit};w=${Math.ceil(windowMs / 1000)}`,
    limitText: String(limits.limit),
    windowSeconds: Math.max(1, Math.ceil(windowMs / 1000)),
    nameField: sfString(name),
    ipPrefix: `${name}|ip|`,
    principalPrefix: `${name}|principal|`,
    texts: { remaining: -1, seconds: -1, value: '', remainingText: '', secondsText: '' },
    lastIp: { client: undefined, key: '' },
  }
}

/**
 * The store key of a client's IP bucket. A keep-alive connection sends its
 * requests one after another, so the last key usually matches: no new
 * string to build and hash for the store's lookup.
 */
export function ipStoreKey (bucket: Bucket, client: string): string {
  const last = bucket.lastIp
  if (last.client !== client) {
    last.client = client
    last.key = `${bucket.ipPrefix}${client}`
  }
  return last.key
}

/** The same bucket charged another cost per request. */
export function withCost (bucket: Bucket, cost: number): Bucket {
  return { ...bucket, cost }
}

/** The most units one request may ever use in this bucket: its burst (GCRA) or its limit (sliding log). */
export function capacityOf (bucket: Bucket): number {
  return bucket.strict ? bucket.params.limit : bucket.params.burst
}

/** Problems with a strict bucket's limits, pushed with `path`. */
export function strictProblems (limits: LimitInput, path: string, problems: string[]): void {
  if (limits.strict !== true) return
  if (limits.limit > STRICT_MAX_LIMIT) {
    problems.push(`${path}.limit: must be at most ${STRICT_MAX_LIMIT} with strict (a sliding log keeps one entry per request); use GCRA (strict: false) for larger limits`)
  }
  if (limits.burst !== undefined) {
    problems.push(`${path}.burst: has no meaning with strict (at most limit requests pass in any window); remove it`)
  }
}

/** The RateLimit field value for one decision. */
export function rateLimitValue (bucket: Bucket, remaining: number, resetSeconds: number): string {
  return `${bucket.nameField};r=${remaining};t=${resetSeconds}`
}

/** The texts for one decision, reusing the bucket's last ones when the numbers are the same. */
export function textsFor (bucket: Bucket, remaining: number, seconds: number): LimitTexts {
  const texts = bucket.texts
  if (texts.remaining !== remaining || texts.seconds !== seconds) {
    texts.remaining = remaining
    texts.seconds = seconds
    texts.value = rateLimitValue(bucket, remaining, seconds)
    texts.remainingText = String(remaining)
    texts.secondsText = String(seconds)
  }
  return texts
}

/** Response headers the rate limiter sends, which browsers may only read when CORS exposes them. */
export function rateLimitHeaderNames (headers: RateLimitOptions['headers']): string[] {
  const names: string[] = []
  if (headers === undefined || headers === 'both' || headers === 'draft') names.push('RateLimit', 'RateLimit-Policy')
  if (headers === undefined || headers === 'both' || headers === 'legacy') {
    names.push('X-RateLimit-Limit', 'X-RateLimit-Remaining', 'X-RateLimit-Reset')
  }
  return [...names, 'Retry-After']
}
