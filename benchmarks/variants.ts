import Fastify, { type FastifyInstance, type FastifyPluginAsync } from 'fastify'
import { Redis } from 'ioredis'
import { JWT_VARIANTS } from './jwt-variants.js'
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
  /** The variant that writes the same response headers with no logic, for "× floor" and "Δ floor". */
  floor?: string
  redis?: boolean
  /** Request headers for this variant instead of the default cross-origin GET's. */
  request?: Record<string, string>
  build: (app: FastifyInstance) => Promise<void>
}

/** The request every variant answers, unless it says otherwise. */
export const REQUEST_HEADERS: Record<string, string> = { origin: ORIGIN }

// Headers every response has or that Fastify writes itself; a floor leaves them to Fastify.
const OWN_HEADERS = new Set(['date', 'connection', 'keep-alive', 'content-length', 'content-type'])

/**
 * A floor: the response headers `build` adds to the benchmark request,
 * captured from it with app.inject when the floor server starts (so the floor
 * can never drift from what the plugins send), then written by one
 * reply.headers() call in a sync onRequest hook, with no logic at all.
 */
function floorOf (label: string, build: (app: FastifyInstance) => Promise<void>, request = REQUEST_HEADERS): Variant {
  return {
    label,
    build: async (app) => {
      const probe = Fastify({ logger: false })
      await build(probe)
      probe.get('/', async () => ({ hello: 'world' }))
      const res = await probe.inject({ url: '/', headers: { host: '127.0.0.1', ...request } })
      await probe.close()
      if (res.statusCode !== 200) throw new Error(`${label}: the captured response was ${res.statusCode}`)
      const headers: Record<string, string> = {}
      for (const [name, value] of Object.entries(res.headers)) {
        if (!OWN_HEADERS.has(name)) headers[name] = String(value)
      }
      app.addHook('onRequest', (_request, reply, done) => {
        reply.headers(headers)
        done()
      })
    },
  }
}

// 100k wildcard tenants: the host and origin checks must cost per label, not per entry.
const TENANTS = 100_000
const TENANT_HOST = `api.tenant${TENANTS - 1}.example.com`
const tenantHosts = () => Array.from({ length: TENANTS }, (_, i) => `*.tenant${i}.example.com`)
const tenantOrigins = () => Array.from({ length: TENANTS }, (_, i) => `https://*.tenant${i}.example.com`)
const TENANT_REQUEST = { host: TENANT_HOST, origin: `https://app.tenant${TENANTS - 1}.example.com` }

async function officialStack (app: FastifyInstance, redis: boolean): Promise<void> {
  await app.register(await official('@fastify/helmet'))
  await app.register(await official('@fastify/cors'), { origin: [ORIGIN], credentials: true })
  await app.register(await official('@fastify/rate-limit'), {
    max: LIMIT,
    timeWindow: '1 minute',
    ...(redis ? { redis: new Redis(REDIS_URL), nameSpace: prefix() } : {}),
  })
}

async function fullSuite (app: FastifyInstance, redis: boolean): Promise<void> {
  await app.register(securityPlugin, {
    trustedHost: { allowedHosts: ['127.0.0.1', 'localhost'] },
    cors: { origins: [ORIGIN], credentials: true },
    rateLimit: { limit: LIMIT, window: '1m', ...(redis ? { store: { redis: REDIS_URL, prefix: prefix() } } : {}) },
  })
}

const headersOnly = async (app: FastifyInstance) => { await app.register(headersPlugin) }
const corsOnly = async (app: FastifyInstance) => { await app.register(corsPlugin, { origins: [ORIGIN], credentials: true }) }
const memoryLimit = async (app: FastifyInstance) => { await app.register(rateLimitPlugin, { limit: LIMIT, window: '1m' }) }
const fullMemory = async (app: FastifyInstance) => fullSuite(app, false)

export const VARIANTS: Record<string, Variant> = {
  bare: { label: 'bare Fastify', build: async () => {} },
  // Bearer tokens: rampart against @fastify/jwt, same RS256 key and token (benchmarks/jwt-variants.ts).
  ...Object.fromEntries(Object.entries(JWT_VARIANTS).map(([name, v]) => [name, { ...v, request: { ...REQUEST_HEADERS, ...v.headers } }])),
  'rampart-headers': {
    label: 'rampart headers',
    official: 'helmet',
    floor: 'floor-headers',
    build: headersOnly,
  },
  // Floors are not products: each writes the headers its configuration
  // sends, captured from it, with no logic, to show what the bytes cost.
  'floor-headers': floorOf('floor: headers\' headers, no logic', headersOnly),
  helmet: {
    label: '@fastify/helmet (defaults)',
    build: async (app) => {
      await app.register(await official('@fastify/helmet'))
    },
  },
  // The host check writes no header: its floor is bare Fastify.
  'rampart-host': {
    label: 'rampart host',
    floor: 'bare',
    build: async (app) => {
      await app.register(trustedHostPlugin, { allowedHosts: ['127.0.0.1', 'localhost'] })
    },
  },
  'rampart-host-100k': {
    label: 'rampart host, 100k wildcard entries',
    floor: 'bare',
    request: TENANT_REQUEST,
    build: async (app) => {
      await app.register(trustedHostPlugin, { allowedHosts: tenantHosts() })
    },
  },
  'rampart-cors': {
    label: 'rampart cors',
    official: 'fastify-cors',
    floor: 'floor-cors',
    build: corsOnly,
  },
  'floor-cors': floorOf('floor: cors\' headers, no logic', corsOnly),
  'rampart-cors-100k': {
    label: 'rampart cors, 100k wildcard origins',
    floor: 'floor-cors-100k',
    request: TENANT_REQUEST,
    build: async (app) => {
      await app.register(corsPlugin, { origins: tenantOrigins(), credentials: true })
    },
  },
  'floor-cors-100k': floorOf('floor: cors 100k\'s headers, no logic', async (app) => {
    await app.register(corsPlugin, { origins: [TENANT_REQUEST.origin], credentials: true })
  }, TENANT_REQUEST),
  'fastify-cors': {
    label: '@fastify/cors',
    build: async (app) => {
      await app.register(await official('@fastify/cors'), { origin: [ORIGIN], credentials: true })
    },
  },
  'rampart-ratelimit-memory': {
    label: 'rampart ratelimit (memory)',
    official: 'fastify-rate-limit-memory',
    floor: 'floor-ratelimit',
    build: memoryLimit,
  },
  'floor-ratelimit': floorOf('floor: rate limit\'s headers, no logic', memoryLimit),
  'fastify-rate-limit-memory': {
    label: '@fastify/rate-limit (memory)',
    build: async (app) => {
      await app.register(await official('@fastify/rate-limit'), { max: LIMIT, timeWindow: '1 minute' })
    },
  },
  'rampart-ratelimit-redis': {
    label: 'rampart ratelimit (redis)',
    official: 'fastify-rate-limit-redis',
    floor: 'floor-ratelimit',
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
    floor: 'floor-full',
    build: fullMemory,
  },
  'floor-full': floorOf('floor: full suite\'s headers, no logic', fullMemory),
  'official-memory': {
    label: 'official stack (memory)',
    build: async (app) => officialStack(app, false),
  },
  'full-redis': {
    label: 'rampart full suite (redis)',
    official: 'official-redis',
    floor: 'floor-full',
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
