import { createHash, randomBytes } from 'node:crypto'
import Type from 'typebox'
import { invalidGrant, invalidOptions } from '../lib/errors.js'
import { toMs } from '../lib/duration.js'
import { collectOptions } from '../lib/options.js'
import { RefreshRedisStoreSchema, type RefreshRedisStoreOptions, type RefreshTokensOptions, RefreshTokensOptionsSchema } from '../schemas/oauth.js'
import { MemoryRefreshStore, type RefreshStore, type RefreshTokenRecord, RedisRefreshStore } from './refresh-store.js'

/**
 * Refresh-token rotation with reuse detection (RFC 9700 §4.14.2), in the
 * order oidc-provider checks a refresh_token grant: unknown token, client
 * mismatch (refused, the family left alone: another client cannot log a
 * user out), expiry, then reuse. Every use consumes the token and returns
 * the next one of its family; a consumed token presented again means two
 * parties hold the chain, so the whole family is revoked and both the
 * attacker and the user must log in again.
 */

/**
 * What `issue` takes: the client the token is for (here, or in issue's
 * second argument), and whatever else the grant is (user id, scopes, ...),
 * JSON-serialisable. `rotate` returns it as stored.
 */
export interface RefreshGrant {
  clientId?: string
  [key: string]: unknown
}

export interface IssuedRefreshToken {
  /** The opaque token to hand the client: 256 random bits, base64url. Only its hash is stored. */
  token: string
  familyId: string
  /** When this token dies unless rotated first (ms since the epoch). */
  expiresAt: number
  /** When the family dies, rotated or not (ms since the epoch). */
  familyExpiresAt: number
}

export interface RotatedRefreshToken<G extends RefreshGrant = RefreshGrant> extends IssuedRefreshToken {
  /** The grant given to `issue`, as stored (after a JSON round trip). */
  grant: G
}

export interface RefreshTokens<G extends RefreshGrant = RefreshGrant> {
  /**
   * Starts a family (at login, or when an authorization code is redeemed).
   * The client is `grant.clientId`, or `options.clientId` (then the grant
   * need not carry it; given both, they must agree).
   */
  issue(grant: G, options?: { clientId?: string }): Promise<IssuedRefreshToken>
  /** Consumes `token` and returns the next one of its family; throws FST_RAMPART_OAUTH_INVALID_GRANT. */
  rotate(token: unknown, options: { clientId: string }): Promise<RotatedRefreshToken<G>>
  /** Revokes a family (logout, password change); false when it is unknown, expired or already revoked. */
  revokeFamily(familyId: string): Promise<boolean>
  /** Closes a Redis connection opened from a URL; a store or client you passed is left open. */
  close(): Promise<void>
}

/** Opaque tokens are exactly 32 bytes as base64url: anything else is not ours, and is refused without a lookup. */
const TOKEN = /^[A-Za-z0-9_-]{43}$/

/** The SHA-256 (base64url) under which a token is stored. */
export function hashToken (token: string): string {
  return createHash('sha256').update(token).digest('base64url')
}

function newToken (): string {
  return randomBytes(32).toString('base64url')
}

const GrantSchema = Type.Object({ clientId: Type.Optional(Type.String({ minLength: 1 })) })
const IssueSchema = Type.Object({ clientId: Type.Optional(Type.String({ minLength: 1 })) }, { additionalProperties: false })

/** The grant's client, from the grant or from issue's options; every problem listed. */
function clientOf (grant: unknown, options: unknown): string {
  const problems: string[] = []
  const g = collectOptions<{ clientId?: string }>(GrantSchema, grant, 'grant', problems)
  const o = collectOptions<{ clientId?: string }>(IssueSchema, options, 'options', problems)
  if (problems.length === 0) {
    if (g.clientId === undefined && o.clientId === undefined) problems.push('grant.clientId: is required')
    else if (g.clientId !== undefined && o.clientId !== undefined && g.clientId !== o.clientId) {
      problems.push('options.clientId: must equal grant.clientId')
    }
  }
  if (problems.length > 0) throw invalidOptions(problems)
  return (o.clientId ?? g.clientId) as string
}

interface Resolved {
  store: 'memory' | RefreshRedisStoreOptions | RefreshStore
  absoluteLifetime: number | string
  idleLifetime: number | string
  now?: () => number
  log?: { error: (...args: unknown[]) => void }
}

const STORE_METHODS = ['create', 'find', 'rotate', 'revoke'] as const

function isStore (value: object): value is RefreshStore {
  return STORE_METHODS.every((m) => typeof (value as Record<string, unknown>)[m] === 'function')
}

function storeOf (resolved: Resolved, problems: string[]): { store: RefreshStore | undefined; owned: boolean } {
  const { store } = resolved
  if (store === 'memory') return { store: new MemoryRefreshStore(resolved.now === undefined ? {} : { now: resolved.now }), owned: true }
  if ('redis' in store) {
    const redis = collectOptions<RefreshRedisStoreOptions>(RefreshRedisStoreSchema, store, 'refreshTokens.store', problems)
    if (problems.length > 0) return { store: undefined, owned: false }
    return { store: new RedisRefreshStore(resolved.log === undefined ? redis : { ...redis, log: resolved.log }), owned: true }
  }
  if (isStore(store)) return { store, owned: false }
  problems.push(`refreshTokens.store: a store object needs methods ${STORE_METHODS.join(', ')}`)
  return { store: undefined, owned: false }
}

/**
 * Creates the refresh-token issuer. Options are checked at once; every
 * problem is listed in one FST_RAMPART_INVALID_OPTIONS.
 */
export function createRefreshTokens<G extends RefreshGrant = RefreshGrant> (options: RefreshTokensOptions = {}): RefreshTokens<G> {
  const problems: string[] = []
  const resolved = collectOptions<Resolved>(RefreshTokensOptionsSchema, options, 'refreshTokens', problems)
  const { store, owned } = problems.length === 0 ? storeOf(resolved, problems) : { store: undefined, owned: false }
  if (store === undefined) throw invalidOptions(problems)

  const absoluteMs = toMs(resolved.absoluteLifetime)
  const idleMs = toMs(resolved.idleLifetime)
  const now = resolved.now ?? (() => Date.now())

  function recordFor (familyId: string, clientId: string, parent: string | null, familyExpiresAt: number, grant: string, at: number): RefreshTokenRecord {
    return { familyId, clientId, parent, issuedAt: at, expiresAt: Math.min(at + idleMs, familyExpiresAt), familyExpiresAt, grant }
  }

  return {
    async issue (grant, issueOptions) {
      const clientId = clientOf(grant, issueOptions)
      const at = now()
      const familyId = randomBytes(16).toString('base64url')
      const token = newToken()
      const record = recordFor(familyId, clientId, null, at + absoluteMs, JSON.stringify(grant), at)
      await store.create(hashToken(token), record, absoluteMs)
      return { token, familyId, expiresAt: record.expiresAt, familyExpiresAt: record.familyExpiresAt }
    },

    async rotate (token, { clientId }) {
      if (typeof token !== 'string' || !TOKEN.test(token)) throw invalidGrant('refresh token not found')
      const hash = hashToken(token)
      const found = await store.find(hash)
      if (found === undefined) throw invalidGrant('refresh token not found')
      const { record } = found
      if (record.clientId !== clientId) throw invalidGrant('client mismatch')
      if (found.familyRevoked) throw invalidGrant('refresh token revoked')
      const at = now()
      if (at >= record.familyExpiresAt) throw invalidGrant('refresh token is expired')
      // A consumed token is reuse even after its own idle time: it goes to the store, which revokes the family.
      if (found.status === 'active' && at >= record.expiresAt) throw invalidGrant('refresh token is expired')

      const next = newToken()
      const nextRecord = recordFor(record.familyId, record.clientId, hash, record.familyExpiresAt, record.grant, at)
      const outcome = await store.rotate(hash, hashToken(next), nextRecord, record.familyExpiresAt - at)
      if (outcome === 'reused') throw invalidGrant('refresh token already used')
      if (outcome === 'revoked') throw invalidGrant('refresh token revoked')
      if (outcome === 'missing') throw invalidGrant('refresh token not found')
      return {
        token: next,
        familyId: record.familyId,
        expiresAt: nextRecord.expiresAt,
        familyExpiresAt: record.familyExpiresAt,
        grant: JSON.parse(record.grant) as G,
      }
    },

    async revokeFamily (familyId) {
      if (typeof familyId !== 'string' || familyId === '') return false
      return store.revoke(familyId)
    },

    async close () {
      if (owned) await store.close?.()
    },
  }
}
