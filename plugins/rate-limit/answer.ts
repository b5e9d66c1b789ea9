// How a rate-limited (429) or store-unavailable (503) answer is built, and
// the limit headers every checked response carries. Status and headers are
// always ours; `errorResponse` may shape the body (problem+json, i18n).

import type { FastifyReply, FastifyRequest } from 'fastify'
import { RateLimitedError, RateLimitUnavailableError } from '../../lib/errors.js'
import type { LogLimiter } from '../../lib/log-limiter.js'
import type { RateLimitErrorContext } from '../../schemas/rate-limit.js'
import { type Bucket, textsFor } from './buckets.js'
import { headersOf } from '../../lib/reply-headers.js'
import type { GcraDecision } from './gcra.js'

const JSON_TYPE = 'application/json; charset=utf-8'

export interface Answerer {
  draft: boolean
  legacy: boolean
  errorResponse: ((request: FastifyRequest, context: RateLimitErrorContext) => unknown) | undefined
  errorContentType: string
  onExceeded: ((request: FastifyRequest, key: string) => void) | undefined
  /** One warn line per interval for refused clients (as for refused hosts). */
  refusals: LogLimiter
  /** One warn line per interval for user callbacks that throw. */
  callbacks: LogLimiter
}

/** Seconds to announce: at least 1; a request that can never pass in this bucket is told the window. */
export function secondsOf (bucket: Bucket, decision: GcraDecision): number {
  const ms = decision.allowed ? decision.resetMs : decision.retryAfterMs
  if (!Number.isFinite(ms)) return bucket.windowSeconds
  return Math.max(1, Math.ceil(ms / 1000))
}

/** Writes the limit headers for one decision; returns the seconds announced. */
export function writeHeaders (answer: Answerer, reply: FastifyReply, bucket: Bucket, decision: GcraDecision): number {
  const seconds = secondsOf(bucket, decision)
  const texts = textsFor(bucket, decision.remaining, seconds)
  // Constant names straight into Fastify's header object (lib/reply-headers.ts).
  const headers = headersOf(reply)
  if (answer.draft) {
    headers['ratelimit-policy'] = bucket.policy
    headers.ratelimit = texts.value
  }
  if (answer.legacy) {
    headers['x-ratelimit-limit'] = bucket.limitText
    headers['x-ratelimit-remaining'] = texts.remainingText
    headers['x-ratelimit-reset'] = texts.secondsText
  }
  return seconds
}

/** Calls a user callback; one that throws is logged (rate-limited) and otherwise ignored: never a 500. */
export function safely<A extends unknown[], R> (answer: Answerer, request: FastifyRequest, what: string, fn: (...args: A) => R, ...args: A): R | undefined {
  try {
    return fn(...args)
  } catch (err) {
    const suppressed = answer.callbacks.take()
    if (suppressed >= 0) request.log.warn({ err, suppressed }, `fastify-rampart: rateLimit.${what} threw; treated as not given`)
    return undefined
  }
}

function body (answer: Answerer, request: FastifyRequest, context: RateLimitErrorContext): [string, string] {
  const fallback: [string, string] = [JSON.stringify(context.defaultBody), JSON_TYPE]
  if (answer.errorResponse === undefined) return fallback
  const shaped = safely(answer, request, 'errorResponse', answer.errorResponse, request, context)
  if (shaped === undefined) return fallback
  // A string is a body as it is: plain text, unless a content type was chosen.
  if (typeof shaped === 'string') return [shaped, answer.errorContentType === JSON_TYPE ? 'text/plain; charset=utf-8' : answer.errorContentType]
  try {
    return [JSON.stringify(shaped), answer.errorContentType]
  } catch (err) {
    safely(answer, request, 'errorResponse', () => { throw err })
    return fallback
  }
}

/** The 429: sent here, not thrown, so an app's error handler cannot turn it into a 500. */
export function sendLimited (answer: Answerer, request: FastifyRequest, reply: FastifyReply, bucket: Bucket, seconds: number, by: 'ip' | 'principal', key: string): void {
  const suppressed = answer.refusals.take()
  if (suppressed >= 0) {
    request.log.warn(
      { code: 'FST_RAMPART_RATE_LIMITED', bucket: bucket.name, by, retryAfter: seconds, suppressed },
      'fastify-rampart: rate-limited a client'
    )
  }
  if (answer.onExceeded !== undefined) safely(answer, request, 'onExceeded', answer.onExceeded, request, key)
  const [payload, type] = body(answer, request, {
    statusCode: 429,
    code: 'FST_RAMPART_RATE_LIMITED',
    defaultBody: { statusCode: 429, code: 'FST_RAMPART_RATE_LIMITED', error: 'Too Many Requests', message: new RateLimitedError(seconds).message },
    retryAfter: seconds,
    bucket: bucket.name,
    limit: bucket.params.limit,
  })
  reply.code(429).header('retry-after', String(seconds)).type(type).send(payload)
}

/** The 503 of `onStoreError: 'closed'`. */
export function sendUnavailable (answer: Answerer, request: FastifyRequest, reply: FastifyReply): void {
  const [payload, type] = body(answer, request, {
    statusCode: 503,
    code: 'FST_RAMPART_RATE_LIMIT_UNAVAILABLE',
    defaultBody: { statusCode: 503, code: 'FST_RAMPART_RATE_LIMIT_UNAVAILABLE', error: 'Service Unavailable', message: new RateLimitUnavailableError().message },
    retryAfter: 1,
  })
  reply.code(503).header('retry-after', '1').type(type).send(payload)
}
