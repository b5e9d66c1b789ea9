import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { checkOptions } from '../lib/options.js'
import type { CorsOptions } from '../schemas/cors.js'
import type { HeadersOptions } from '../schemas/headers.js'
import type { RateLimitOptions } from '../schemas/rate-limit.js'
import { type SecurityOptions, SecurityOptionsSchema } from '../schemas/security.js'
import type { TrustedHostOptions } from '../schemas/trusted-host.js'
import corsPlugin from './cors/plugin.js'
import headersPlugin from './headers/plugin.js'
import { rateLimitHeaderNames } from './rate-limit/buckets.js'
import rateLimitPlugin from './rate-limit/plugin.js'
import trustedHostPlugin from './trusted-host/plugin.js'

function on<T> (value: T | false | undefined): value is T {
  return value !== undefined && value !== false
}

/**
 * Registers the suite from one options object, in a fixed order: the host
 * check first (onRequest), then CORS (preflights before auth hooks), then
 * the rate limit; headers are written in onSend, so they also land on the
 * answers the other plugins give (400, 403, 429, 503).
 */
async function securityPlugin (fastify: FastifyInstance, options: SecurityOptions): Promise<void> {
  const checked = checkOptions<SecurityOptions>(SecurityOptionsSchema, options, '')
  if (on(checked.trustedHost)) await fastify.register(trustedHostPlugin, options.trustedHost as TrustedHostOptions)
  if (on(checked.cors)) {
    const cors = options.cors as CorsOptions
    // Scripts can read the limit and Retry-After only if CORS exposes them.
    const exposed = checked.rateLimit === false
      ? cors.exposedHeaders
      : [...new Set([...(cors.exposedHeaders ?? []), ...rateLimitHeaderNames((options.rateLimit || {}).headers)])]
    await fastify.register(corsPlugin, { ...cors, exposedHeaders: exposed })
  }
  if (checked.rateLimit !== false) await fastify.register(rateLimitPlugin, (options.rateLimit || {}) as RateLimitOptions)
  if (checked.headers !== false) await fastify.register(headersPlugin, (options.headers || {}) as HeadersOptions)
  fastify.log.debug(
    {
      trustedHost: on(checked.trustedHost),
      cors: on(checked.cors),
      rateLimit: checked.rateLimit === false ? false : (options.rateLimit || {}).store === undefined ? 'memory' : 'redis',
      headers: checked.headers !== false,
    },
    'fastify-rampart: security plugins registered'
  )
}

export default fp(securityPlugin, { fastify: '5.x', name: 'fastify-rampart' })
