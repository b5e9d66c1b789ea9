import Type, { type Static, type TUnsafe } from 'typebox'
import { DURATION_PATTERN } from '../lib/duration.js'
import { RedisOption } from '../lib/redis.js'

/** Milliseconds, or a string such as `'30s'`, `'5m'`, `'72h'`. */
const Duration = Type.Union([
  Type.Integer({ minimum: 1 }),
  Type.String({ pattern: DURATION_PATTERN, errorMessage: "must be a duration like '30s', '5m', '72h'" }),
])
const Scheme = Type.Union([Type.Literal('standard'), Type.Literal('stripe'), Type.Literal('github')])
const KeyList = Type.Array(Type.String({ minLength: 1, errorMessage: 'must be a non-empty string' }), { minItems: 1 })

const MIB = 1024 * 1024

export const WebhookOptionsSchema = Type.Object(
  {
    /** Default for routes: how far a signed timestamp may lie from now, past or future. */
    tolerance: Type.Optional(Type.Union(Duration.anyOf, { default: '5m' })),
    /** Default for routes: largest body read (and signed over); beyond it, 413 before any HMAC. */
    bodyLimit: Type.Optional(Type.Integer({ minimum: 1, default: MIB })),
    replay: Type.Optional(
      Type.Object(
        {
          /** Shared store for every instance; default: a bounded in-process memory store. */
          store: Type.Optional(
            Type.Object(
              {
                redis: RedisOption,
                prefix: Type.Optional(Type.String({ default: 'rampart:webhook:', pattern: '^[^{}]*$', errorMessage: 'must not contain { or }' })),
                /** No request waits longer than this for the store. */
                timeoutMs: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000, default: 100 })),
              },
              { additionalProperties: false }
            )
          ),
          /** How long a processed delivery is remembered (providers retry for up to 72 h); at least twice the tolerance. */
          ttl: Type.Optional(Type.Union(Duration.anyOf, { default: '72h' })),
          /** How long a delivery being processed holds its claim, so a crashed handler frees it. */
          pendingTtl: Type.Optional(Type.Union(Duration.anyOf, { default: '1m' })),
          /** Deliveries the memory store remembers at most. */
          maxKeys: Type.Optional(Type.Integer({ minimum: 1, default: 100_000 })),
        },
        { additionalProperties: false, default: {} }
      )
    ),
    /** Clock (ms since the epoch) for timestamps and the memory store; for tests. */
    now: Type.Optional(Type.Unsafe<() => number>({ type: 'function', errorMessage: 'must be a function () => number' })),
  },
  { additionalProperties: false }
)

export const WebhookRouteSchema = Type.Union([
  Type.Literal(false),
  Type.Object(
    {
      /** `'standard'` (Standard Webhooks, also Svix's `svix-*` headers), `'stripe'` or `'github'`. */
      scheme: Scheme,
      /** HMAC secrets; any one matching passes (list the previous one while rotating). */
      secrets: Type.Optional(KeyList),
      /** Standard Webhooks only: Ed25519 public keys (`whpk_` + base64) for `v1a` signatures. */
      publicKeys: Type.Optional(KeyList),
      tolerance: Type.Optional(Duration),
      bodyLimit: Type.Optional(Type.Integer({ minimum: 1 })),
      /** On by default; `false` turns replay protection off; `{ ttl }` remembers deliveries for that long. */
      replay: Type.Optional(Type.Union([Type.Boolean(), Type.Object({ ttl: Type.Optional(Duration) }, { additionalProperties: false })])),
    },
    { additionalProperties: false }
  ),
])

const Body: TUnsafe<string | Buffer> = Type.Unsafe<string | Buffer>({
  anyOf: [{ type: 'string' }, { type: 'object' }],
  errorMessage: 'must be a string or a Buffer',
})

export const SignWebhookOptionsSchema = Type.Object(
  {
    scheme: Scheme,
    /** Standard: `whsec_` + base64; Stripe and GitHub: the secret string. */
    secret: Type.String({ minLength: 1, errorMessage: 'must be a non-empty string' }),
    /** The exact bytes you will send. */
    body: Body,
    /** Standard only; default `msg_` + 128 random bits. */
    id: Type.Optional(Type.String({ pattern: '^[^.]{1,256}$', errorMessage: 'must be 1-256 characters without "."' })),
    /** Seconds since the epoch; default now. */
    timestamp: Type.Optional(Type.Integer({ minimum: 0, maximum: 9_999_999_999 })),
  },
  { additionalProperties: false }
)

export type WebhookOptions = Static<typeof WebhookOptionsSchema>
/** `config.security.webhook`: the route verifies signed deliveries of this scheme. */
export type WebhookRouteConfig = Static<typeof WebhookRouteSchema>
export type WebhookScheme = Static<typeof Scheme>
export type SignWebhookOptions = Static<typeof SignWebhookOptionsSchema>
