import type { Writable } from 'node:stream'
import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'
import { type WebhookOptions, type WebhookRouteConfig, webhookPlugin } from '../../index.js'
import { makeApp } from '../helpers.js'

// The Standard Webhooks spec vector (https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md).
export const SPEC = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
}

/** The clock pinned at the spec vector's timestamp (ms). */
export const SPEC_NOW = SPEC.timestamp * 1000

/** A clock the test moves by hand. */
export function fakeClock (start = SPEC_NOW) {
  let now = start
  return {
    now: () => now,
    set: (ms: number) => {
      now = ms
    },
  }
}

export interface HookApp {
  app: FastifyInstance
  /** How many times the handler ran. */
  calls: () => number
}

/**
 * An app with webhookPlugin and POST /hook under `route`, whose handler
 * echoes what it was given; `answer` picks the handler's status (or throws).
 */
export interface HookAppOptions {
  options?: WebhookOptions
  answer?: (n: number) => number | 'throw' | Promise<number | 'throw'>
  /** Where the app logs (warn and up); default: no logger. */
  logs?: Writable
}

/** A route config as tests write it (`as const` literals welcome). */
export type RouteInput = Omit<Exclude<WebhookRouteConfig, false>, 'secrets' | 'publicKeys'> & { secrets?: readonly string[]; publicKeys?: readonly string[] }

export async function hookApp (t: { teardown: (fn: () => unknown) => void }, route: RouteInput, setup: HookAppOptions = {}): Promise<HookApp> {
  const answer = setup.answer ?? (() => 200)
  const app = makeApp(t, setup.logs === undefined ? {} : { logger: { level: 'warn', stream: setup.logs } })
  await app.register(webhookPlugin, { now: () => SPEC_NOW, ...setup.options })
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_request, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(body as string)))
  })
  app.addContentTypeParser('application/octet-stream', { parseAs: 'buffer' }, (_request, body, done) => done(null, body))
  let calls = 0
  app.post('/hook', { config: { security: { webhook: route as WebhookRouteConfig } } }, async (request, reply) => {
    const outcome = await answer(++calls)
    if (outcome === 'throw') throw new Error('handler failed')
    reply.code(outcome)
    return {
      body: Buffer.isBuffer(request.body) ? request.body.toString('base64') : request.body,
      raw: request.rawBody?.toString('base64'),
      webhook: request.webhook,
    }
  })
  return { app, calls: () => calls }
}

export function post (app: FastifyInstance, headers: Record<string, string | string[]>, payload: string | Buffer, contentType = 'application/json'): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'POST', url: '/hook', headers: { 'content-type': contentType, ...headers }, payload } as InjectOptions)
}

export const INVALID = {
  statusCode: 401,
  code: 'FST_RAMPART_WEBHOOK_INVALID',
  error: 'Unauthorized',
  message: 'Invalid webhook delivery',
}

/** A handler that waits: `inside` resolves when it is entered, `open()` lets it answer. */
export function gate (): { inside: Promise<void>; entered: () => void; opened: Promise<void>; open: () => void } {
  let entered = () => {}
  let open = () => {}
  const inside = new Promise<void>((resolve) => { entered = resolve })
  const opened = new Promise<void>((resolve) => { open = resolve })
  return { inside, entered, opened, open }
}

export const DUPLICATE = { duplicate: true }
export const IN_PROGRESS = {
  statusCode: 409,
  code: 'FST_RAMPART_WEBHOOK_IN_PROGRESS',
  error: 'Conflict',
  message: 'This webhook delivery is already being processed',
}
export const UNAVAILABLE = {
  statusCode: 503,
  code: 'FST_RAMPART_WEBHOOK_UNAVAILABLE',
  error: 'Service Unavailable',
  message: 'Service temporarily unavailable',
}
