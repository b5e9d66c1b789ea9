import type { FastifyInstance } from 'fastify'
import fp from 'fastify-plugin'
import { checkOptions } from '../lib/options.js'
import type { HeadersOptions } from '../schemas/headers.js'
import { type SecurityOptions, SecurityOptionsSchema } from '../schemas/security.js'
import headersPlugin from './headers/plugin.js'

/**
 * Registers the suite from one options object. Order is fixed: headers are
 * set in onSend, so they also land on answers the other plugins give.
 */
async function securityPlugin (fastify: FastifyInstance, options: SecurityOptions): Promise<void> {
  const checked = checkOptions<SecurityOptions>(SecurityOptionsSchema, options, '')
  if (checked.headers !== false) { await fastify.register(headersPlugin, (options.headers || {}) as HeadersOptions) }
}

export default fp(securityPlugin, { fastify: '5.x', name: 'fastify-rampart' })
