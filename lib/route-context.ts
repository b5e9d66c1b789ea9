import type { FastifyRequest } from 'fastify'

// `request.routeOptions` builds a new object on every read (a dozen fields
// and a constraint-strategy lookup): garbage on every request for the one
// field the plugins want. Its `config` is the route context's own object,
// which Fastify keeps on the request under a symbol (`fastify.context`,
// since Fastify 4): found once, by its description, then read directly. A
// Fastify without it gets `routeOptions.config`, the same object.
let kContext: symbol | undefined

type WithContext = FastifyRequest & Record<symbol, { config: unknown } | undefined>

/** The route's config (what `request.routeOptions.config` returns), without building routeOptions. */
export function routeConfigOf (request: FastifyRequest): Record<PropertyKey, unknown> {
  if (kContext === undefined) kContext = Object.getOwnPropertySymbols(request).find((s) => s.description === 'fastify.context')
  const context = kContext === undefined ? undefined : (request as WithContext)[kContext]
  return (context === undefined ? request.routeOptions.config : context.config) as Record<PropertyKey, unknown>
}
