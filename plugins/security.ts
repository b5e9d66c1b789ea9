import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { checkOptions } from '../lib/options.js'
import type { HeadersOptions } from '../schemas/headers.js'
import { type SecurityOptions, SecurityOptionsSchema } from '../schemas/security.js'
import type { CorsOptions } from '../schemas/cors.js'
import type { TrustedHostOptions } from '../schemas/trusted-host.js'
import corsPlugin from './cors/plugin.js'
import headersPlugin from './headers/plugin.js'
import trustedHostPlugin from './trusted-host/plugin.js'

/**
 * Registers the suite from one options object, in a fixed order: the host
 * check first (onRequest), then the rest; headers are written in onSend, so
 * they also land on the answers the other plugins give (400, 403, 429, 503).
 */
async function securityPlugin (fastify: FastifyInstance, options: SecurityOptions): Promise<void> {
  const checked = checkOptions<SecurityOptions>(SecurityOptionsSchema, options, '')
  if (checked.trustedHost !== undefined && checked.trustedHost !== false) {
    await fastify.register(trustedHostPlugin, options.trustedHost as TrustedHostOptions)
  }
  if (checked.cors !== undefined && checked.cors !== false) {
    await fastify.register(corsPlugin, options.cors as CorsOptions)
  }
  if (checked.headers !== false) {
    await fastify.register(headersPlugin, (options.headers || {}) as HeadersOptions)
  }
}

export default fp(securityPlugin, { fastify: '5.x', name: 'fastify-rampart' })
