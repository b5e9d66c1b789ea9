import { STATUS_CODES } from 'node:http'
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteOptions } from 'fastify'
import fp from 'fastify-plugin'
import type { Redis } from 'ioredis'
import { Compile } from 'typebox/compile'
import { type ClaimStore, MemoryClaimStore, RedisClaimStore } from '../../lib/claim-store.js'
import { toMs } from '../../lib/duration.js'
import {
  invalidOptions,
  invalidRouteConfig,
  WebhookInProgressError,
  WebhookInvalidError,
  WebhookTooLargeError,
  WebhookUnavailableError,
} from '../../lib/errors.js'
import { createLogLimiter, type LogLimiter } from '../../lib/log-limiter.js'
import { collectOptions, withoutRegisterKeys } from '../../lib/options.js'
import { connectRedis } from '../../lib/redis.js'
import { addRouteHook, explainRouteConfig, routeName, routeSecurityConfig, declareSecurityKey } from '../../lib/route-config.js'
import { type WebhookOptions, WebhookOptionsSchema, type WebhookRouteConfig, WebhookRouteSchema, type WebhookScheme } from '../../schemas/webhook.js'
import { bodyStream, readBody } from './body.js'
import { compileRoute, type WebhookDefaults, type WebhookRoute } from './route.js'

/** What `request.webhook` holds on a verified delivery. */
export interface WebhookDelivery {
  scheme: WebhookScheme
  /** Standard Webhooks: the signed `webhook-id`; Stripe and GitHub: SHA-256 (hex) of the raw body. */
  id: string
  /** The signed timestamp in seconds; undefined for GitHub, whose deliveries carry none. */
  timestamp: number | undefined
}

declare module 'fastify' {
  interface FastifyRequest {
    /** The exact bytes of a verified webhook body (set on `config.security.webhook` routes only). */
    rawBody?: Buffer
    /** The verified delivery (set on `config.security.webhook` routes only). */
    webhook?: WebhookDelivery
  }
}

declare module '../../schemas/security.js' {
  interface SecurityRouteConfig {
    /** Verifies signed webhook deliveries on this route. */
    webhook?: WebhookRouteConfig
  }
}

interface Resolved {
  tolerance: number | string
  bodyLimit: number
  replay: {
    store?: { redis: Redis | string; prefix: string; timeoutMs: number }
    ttl: number | string
    pendingTtl: number | string
    maxKeys: number
  }
  now?: () => number
}

interface Claim {
  key: string
  owner: string
  ttlMs: number
}

const RouteConfigCheck = Compile(WebhookRouteSchema)
const LOG_INTERVAL_MS = 10_000
/** How long registration waits for Redis to connect before starting without it (requests get 503 until it does). */
const STARTUP_WAIT_MS = 2000
const kClaim = Symbol('rampart.webhook.claim')

function errorBody (statusCode: number, err: { code: string; message: string }): string {
  return JSON.stringify({ statusCode, code: err.code, error: STATUS_CODES[statusCode], message: err.message })
}

const INVALID = errorBody(401, new WebhookInvalidError())
const TOO_LARGE = errorBody(413, new WebhookTooLargeError())
const IN_PROGRESS = errorBody(409, new WebhookInProgressError())
const UNAVAILABLE = errorBody(503, new WebhookUnavailableError())
const DUPLICATE = JSON.stringify({ duplicate: true })

/** Answers sent from the hook, not thrown: an app's error handler cannot turn them into a 500 or a 200. */
function answer (reply: FastifyReply, statusCode: number, body: string, retryAfter = false): void {
  if (retryAfter) reply.header('retry-after', '1')
  reply.code(statusCode).type('application/json; charset=utf-8').send(body)
}

async function webhookPlugin (fastify: FastifyInstance, options: WebhookOptions): Promise<void> {
  const problems: string[] = []
  const resolved = collectOptions<Resolved>(WebhookOptionsSchema, withoutRegisterKeys(options), 'webhook', problems)
  if (problems.length > 0) throw invalidOptions(problems)
  const replay = resolved.replay
  const defaults: WebhookDefaults = { toleranceMs: toMs(resolved.tolerance), bodyLimit: resolved.bodyLimit, replayTtlMs: toMs(replay.ttl) }
  if (defaults.replayTtlMs < 2 * defaults.toleranceMs) {
    problems.push(`webhook.replay.ttl: must be at least twice the tolerance (${2 * defaults.toleranceMs} ms)`)
  }
  if (problems.length > 0) throw invalidOptions(problems)

  // Late-bound, so fake timers installed after registration still drive it.
  const now = resolved.now ?? (() => Date.now())
  const pendingMs = toMs(replay.pendingTtl)
  // Apart, so a flood of bad deliveries cannot hide a store outage from the log.
  const refusalLog = createLogLimiter(LOG_INTERVAL_MS)
  const storeLog = createLogLimiter(LOG_INTERVAL_MS)
  let store: ClaimStore
  if (replay.store === undefined) {
    store = new MemoryClaimStore({ maxKeys: replay.maxKeys, now })
  } else {
    const connection = connectRedis(replay.store.redis, { log: fastify.log, purpose: 'webhook replay' })
    store = new RedisClaimStore({ client: connection.client, prefix: replay.store.prefix, timeoutMs: replay.store.timeoutMs })
    fastify.addHook('onClose', async () => connection.close())
    if (!(await connection.ready(STARTUP_WAIT_MS))) {
      fastify.log.warn('fastify-rampart: the webhook replay Redis is not reachable yet; deliveries get 503 until it is')
    }
  }

  if (!fastify.hasRequestDecorator('rawBody')) fastify.decorateRequest('rawBody', undefined)
  if (!fastify.hasRequestDecorator('webhook')) fastify.decorateRequest('webhook', undefined)

  function warn (limiter: LogLimiter, request: FastifyRequest, fields: Record<string, unknown>, message: string): void {
    const suppressed = limiter.take()
    if (suppressed >= 0) request.log.warn({ ...fields, suppressed }, message)
  }

  // Routes naming config.security.webhook in this scope are served: the key checker knows it (lib/route-config.ts).
  declareSecurityKey(fastify, 'webhook')
  fastify.addHook('onRoute', function rampartWebhookRoute (routeOptions: RouteOptions) {
    const own = routeSecurityConfig(routeOptions, 'webhook')
    if (own === undefined || own === false) return
    const path = 'config.security.webhook'
    const name = routeName(routeOptions)
    const routeProblems: string[] = []
    if (!RouteConfigCheck.Check(own)) {
      explainRouteConfig(WebhookRouteSchema, own, path, routeProblems)
      throw invalidRouteConfig(name, routeProblems)
    }
    const route = compileRoute(own as Exclude<WebhookRouteConfig, false>, defaults, path, routeProblems)
    if (routeProblems.length > 0) throw invalidRouteConfig(name, routeProblems)
    // Fastify's parser reads what we hand on; it must not refuse what this route accepts.
    routeOptions.bodyLimit ??= route.bodyLimit
    addRouteHook(routeOptions, 'preParsing', makeVerifier(route, name), true)
    if (route.replayTtlMs !== undefined) addRouteHook(routeOptions, 'onSend', rampartWebhookSettle)
  })

  function makeVerifier (route: WebhookRoute, name: string) {
    const { scheme, bodyLimit, replayTtlMs, verify } = route
    return async function rampartWebhook (request: FastifyRequest, reply: FastifyReply, payload: NodeJS.ReadableStream): Promise<NodeJS.ReadableStream | undefined> {
      const declared = request.headers['content-length']
      // A declared size over the limit is refused unread; an undeclared one is counted as it comes.
      const body = declared !== undefined && Number(declared) > bodyLimit ? undefined : await readBody(payload, bodyLimit)
      if (body === undefined) {
        warn(refusalLog, request, { route: name, scheme, bodyLimit }, 'fastify-rampart: webhook body over the limit')
        answer(reply, 413, TOO_LARGE)
        return
      }
      const verdict = verify(request.raw.rawHeaders, body, Math.floor(now() / 1000))
      if (!verdict.ok) {
        // The reason goes to the log, never to the sender; no secret or signature is logged.
        warn(refusalLog, request, { route: name, scheme, reason: verdict.reason }, 'fastify-rampart: webhook refused')
        answer(reply, 401, INVALID)
        return
      }
      request.rawBody = body
      request.webhook = { scheme, id: verdict.id, timestamp: verdict.timestamp }
      if (replayTtlMs !== undefined) {
        const key = `${scheme}:${name}:${verdict.id}`
        let claim
        try {
          claim = await store.claim(key, pendingMs)
        } catch (err) {
          warn(storeLog, request, { route: name, err: { message: (err as Error).message } }, 'fastify-rampart: the webhook replay store failed; delivery refused (503)')
          answer(reply, 503, UNAVAILABLE, true)
          return
        }
        if (!claim.claimed) {
          if (claim.state === 'done') answer(reply, 200, DUPLICATE)
          else answer(reply, 409, IN_PROGRESS, true)
          return
        }
        ;(request as unknown as Record<symbol, Claim>)[kClaim] = { key, owner: claim.owner, ttlMs: replayTtlMs }
      }
      return bodyStream(body)
    }
  }

  /**
   * Settles the claim before the answer leaves, so by the time the sender
   * sees a 2xx, a repeat is already recognised: kept on 2xx, released on
   * anything else (a thrown handler, a 5xx, a 4xx from parsing or
   * validation), so the provider's retry is processed.
   */
  async function rampartWebhookSettle (request: FastifyRequest, reply: FastifyReply, payload: unknown): Promise<unknown> {
    const holder = request as unknown as Record<symbol, Claim | undefined>
    const claim = holder[kClaim]
    if (claim === undefined) return payload
    holder[kClaim] = undefined
    const kept = reply.statusCode >= 200 && reply.statusCode < 300
    try {
      const held = kept ? await store.complete(claim.key, claim.owner, claim.ttlMs) : await store.release(claim.key, claim.owner)
      if (!held) warn(storeLog, request, { statusCode: reply.statusCode, pendingTtl: pendingMs }, 'fastify-rampart: the webhook claim expired before the handler answered; raise replay.pendingTtl')
    } catch (err) {
      warn(storeLog, request, { statusCode: reply.statusCode, err: { message: (err as Error).message } }, 'fastify-rampart: the webhook replay store failed while settling a claim; it expires after replay.pendingTtl')
    }
    return payload
  }
}

export default fp(webhookPlugin, { fastify: '5.x', name: 'fastify-rampart-webhook' })
