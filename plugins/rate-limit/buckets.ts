import { toMs } from '../../lib/duration.js'
import type { RateLimitOptions } from '../../schemas/rate-limit.js'
import type { GcraParams } from './gcra.js'

/** A limit as the hook uses it: ready GCRA parameters and the RateLimit-Policy value. */
export interface Bucket {
  name: string
  params: GcraParams
  cost: number
  /** `"name";q=<limit>;w=<seconds>` (IETF httpapi ratelimit-headers). */
  policy: string
  /** The limit, as text for X-RateLimit-Limit. */
  limitText: string
  /** `"name"`, the start of every RateLimit value. */
  nameField: string
  /** Store key prefixes for the IP and principal buckets. */
  ipPrefix: string
  principalPrefix: string
}

export interface LimitInput {
  limit: number
  window: number | string
  burst?: number | undefined
}

/** sf-string: `"` and `\` escaped (RFC 9651 §3.3.3). */
function sfString (value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`
}

export function makeBucket (name: string, limits: LimitInput, cost: number, path: string, problems: string[]): Bucket {
  const windowMs = toMs(limits.window)
  const burst = limits.burst ?? limits.limit
  if (cost > burst) problems.push(`${path}.cost: must not exceed the burst (${burst}), or no request could ever pass`)
  return {
    name,
    params: { limit: limits.limit, windowMs, burst },
    cost,
    policy: `${sfString(name)};q=${limits.limit};w=${Math.ceil(windowMs / 1000)}`,
    limitText: String(limits.limit),
    nameField: sfString(name),
    ipPrefix: `${name}|ip|`,
    principalPrefix: `${name}|principal|`,
  }
}

/** The RateLimit field value for one decision. */
export function rateLimitValue (bucket: Bucket, remaining: number, resetSeconds: number): string {
  return `${bucket.nameField};r=${remaining};t=${resetSeconds}`
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
