import Fastify, { type FastifyInstance, type FastifyPluginAsync } from 'fastify'
import { headersPlugin } from '../index.js'

// The official plugins are loaded by a computed name so their type
// declarations stay out of our compilation: @fastify/helmet declares
// `reply.cspNonce` with another shape than ours.
async function official(name: string): Promise<FastifyPluginAsync<Record<string, unknown>>> {
  return (await import(name)).default
}

/**
 * Each benchmark variant: how to build the app. Every variant serves the
 * same JSON route, so the difference is the plugins' per-request cost.
 */
export const VARIANTS: Record<string, { label: string; build: (app: FastifyInstance) => Promise<void> }> = {
  bare: { label: 'bare Fastify', build: async () => {} },
  'rampart-headers': {
    label: 'rampart headers',
    build: async (app) => {
      await app.register(headersPlugin)
    },
  },
  helmet: {
    label: '@fastify/helmet (defaults)',
    build: async (app) => {
      await app.register(await official('@fastify/helmet'))
    },
  },
}

export async function buildServer(name: string): Promise<FastifyInstance> {
  const variant = VARIANTS[name]
  if (variant === undefined) throw new Error(`unknown variant ${name}`)
  const app = Fastify({ logger: false })
  await variant.build(app)
  app.get('/', async () => ({ hello: 'world' }))
  return app
}
