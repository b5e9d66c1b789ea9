import Fastify, { type FastifyInstance, type FastifyPluginAsync } from 'fastify'
import { Redis } from 'ioredis'
// The servers load the built package (dist/, what users install), not the
// TypeScript sources through a loader: tsx's helpers (`__name` on every
// closure) would be measured too. `npm run bench` builds first.
const { corsPlugin, headersPlugin, rateLimitPlugin, securityPlugin, trustedHostPlugin } = (await import(
  process.env.RAMPART_ENTRY ?? '../dist/index.js'
)) as typeof import('../index.js')

// The official plugins are loaded by a computed name so their type
// declarations stay out of our compilation: @fastify/helmet declares
// `reply.cspNonce` with another shape than ours.
async function official (name: string): Promise<FastifyPluginAsync<Record<string, unknown>>> {
  return (await import(name)).default
}

export const REDIS_URL = process.env.BENCH_REDIS_URL ?? 'redis://127.0.0.1:6379'
const ORIGIN = 'https://app.example.com'
// High enough that no benchmark request is limited: we measure the check, not 429s.
const LIMIT = 1_000_000_000
const prefix = () => `rampart:bench:${process.pid}:`

/**
 * Each benchmark variant: how to build the app. Every variant serves the
 * same JSON route to the same request, so the difference is the plugins'
 * per-request cost.
 */
export interface Variant {
  label: string
  /** The variant of the official plugins doing the same job, for the "× official" column. */
  official?: string
  redis?: boolean
  build: (app: FastifyInstance) => Promise<void>
}

async function officialStack (app: FastifyInstance, redis: boolean): Promise<void> {
  await app.register(await official('@fastify/helmet'))
  await app.register(await official('@fastify/cors'), { origin: [ORIGIN] })
  await app.register(await official('@fastify/rate-limit'), {
    max: LIMIT,
    timeWindow: '1 minute',
    ...(redis ? { redis: new Redis(REDIS_URL), nameSpace: prefix() } : {}),
  })
}

async function fullSuite (app: FastifyInstance, redis: boolean): Promise<void> {
  await app.register(securityPlugin, {
    trustedHost: { allowedHosts: ['127.0.0.1', 'localhost'] },
    cors: { origins: [ORIGIN] },
    rateLimit: { limit: LIMIT, window: '1m', ...(redis ? { store: { redis: REDIS_URL, prefix: prefix() } } : {}) },
  })
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
  helmet: {
    label: '@fastify/helmet (defaults)',
    build: async (app) => {
      await app.register(await official('@fastify/helmet'))
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
      await app.register(corsPlugin, { origins: [ORIGIN] })
    },
  },
  'fastify-cors': {
    label: '@fastify/cors',
    build: async (app) => {
      await app.register(await official('@fastify/cors'), { origin: [ORIGIN] })
    },
  },
  'rampart-ratelimit-memory': {
    label: 'rampart ratelimit (memory)',
    official: 'fastify-rate-limit-memory',
    build: async (app) => {
      await app.register(rateLimitPlugin, { limit: LIMIT, window: '1m' })
    },
  },
  'fastify-rate-limit-memory': {
    label: '@fastify/rate-limit (memory)',
    build: async (app) => {
      await app.register(await official('@fastify/rate-limit'), { max: LIMIT, timeWindow: '1 minute' })
    },
  },
  'rampart-ratelimit-redis': {
    label: 'rampart ratelimit (redis)',
    official: 'fastify-rate-limit-redis',
    redis: true,
    build: async (app) => {
      await app.register(rateLimitPlugin, { limit: LIMIT, window: '1m', store: { redis: REDIS_URL, prefix: prefix() } })
    },
  },
  'fastify-rate-limit-redis': {
    label: '@fastify/rate-limit (redis)',
    redis: true,
    build: async (app) => {
      await app.register(await official('@fastify/rate-limit'), {
        max: LIMIT,
        timeWindow: '1 minute',
        redis: new Redis(REDIS_URL),
        nameSpace: prefix(),
      })
    },
  },
  'full-memory': {
    label: 'rampart full suite (memory)',
    official: 'official-memory',
    build: async (app) => fullSuite(app, false),
  },
  'official-memory': {
    label: 'official stack (memory)',
    build: async (app) => officialStack(app, false),
  },
  'full-redis': {
    label: 'rampart full suite (redis)',
    official: 'official-redis',
    redis: true,
    build: async (app) => fullSuite(app, true),
  },
  'official-redis': {
    label: 'official stack (redis)',
    redis: true,
    build: async (app) => officialStack(app, true),
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
