import Fastify, { type FastifyInstance, type FastifyPluginAsync } from 'fastify'
import { corsPlugin, headersPlugin, trustedHostPlugin } from '../index.js'

// The official plugins are loaded by a computed name so their type
// declarations stay out of our compilation: @fastify/helmet declares
// `reply.cspNonce` with another shape than ours.
async function official (name: string): Promise<FastifyPluginAsync<Record<string, unknown>>> {
  return (await import(name)).default
}

/**
 * Each benchmark variant: how to build the app. Every variant serves the
 * same JSON route, so the difference is the plugins' per-request cost.
 */
export interface Variant {
  label: string
  /** The variant of the official plugin doing the same job, for the "× official" column. */
  official?: string
  build: (app: FastifyInstance) => Promise<void>
}

export const VARIANTS: Record<string, Variant> = {
  bare: { label: 'bare Fastify', build: async () => {} },
  'rampart-headers': {
    label: 'rampart headers',
    official: 'helmet',
    build: async (app) => {
      await app.register(headersPlugin)
    },
  },
  // Not a product: the same header bytes written by a hook with no logic,
  // to show what sending them costs by itself.
  floor: {
    label: 'floor: same headers, no logic',
    build: async (app) => {
      const pairs: [string, string][] = [
        ['x-content-type-options', 'nosniff'],
        ['x-frame-options', 'DENY'],
        ['cross-origin-opener-policy', 'same-origin'],
        ['cross-origin-resource-policy', 'same-origin'],
        ['x-permitted-cross-domain-policies', 'none'],
        ['x-dns-prefetch-control', 'off'],
        ['referrer-policy', 'no-referrer'],
        ['content-security-policy', "default-src 'none'; frame-ancestors 'none'"],
        ['cache-control', 'no-store'],
      ]
      app.addHook('onSend', (_q, r, p, done) => {
        for (const [k, v] of pairs) r.header(k, v)
        done(null, p)
      })
    },
  },
  'rampart-host': {
    label: 'rampart host',
    build: async (app) => {
      await app.register(trustedHostPlugin, { allowedHosts: ['127.0.0.1', 'localhost'] })
    },
  },
  'rampart-cors': {
    label: 'rampart cors',
    official: 'fastify-cors',
    build: async (app) => {
      await app.register(corsPlugin, { origins: ['https://app.example.com'] })
    },
  },
  'fastify-cors': {
    label: '@fastify/cors',
    build: async (app) => {
      await app.register(await official('@fastify/cors'), { origin: ['https://app.example.com'] })
    },
  },
  helmet: {
    label: '@fastify/helmet (defaults)',
    build: async (app) => {
      await app.register(await official('@fastify/helmet'))
    },
  },
}

export async function buildServer (name: string): Promise<FastifyInstance> {
  const variant = VARIANTS[name]
  if (variant === undefined) throw new Error(`unknown variant ${name}`)
  const app = Fastify({ logger: false })
  await variant.build(app)
  app.get('/', async () => ({ hello: 'world' }))
  return app
}
