import type { FastifyInstance } from 'fastify'

/**
 * Fastify's `trustProxy` setting for this instance, or `undefined` when none
 * is set. Fastify has no public accessor for it, so this reads the server
 * options Fastify keeps under its own `fastify.options` symbol (present
 * since Fastify 3). Plugins need it to refuse settings that are only safe
 * behind a trusted proxy, at registration instead of at the first request.
 */
export function trustProxyOf (fastify: FastifyInstance): unknown {
  const symbol = Object.getOwnPropertySymbols(fastify).find((s) => s.description === 'fastify.options')
  /* c8 ignore next -- only if a future Fastify drops the symbol: then trustProxy reads as unset, the safe side */
  const options = symbol === undefined ? undefined : (fastify as unknown as Record<symbol, unknown>)[symbol]
  return (options as { trustProxy?: unknown } | undefined)?.trustProxy
}
