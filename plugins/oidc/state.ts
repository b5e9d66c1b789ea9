import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import type { StateKey } from './keys.js'
import { sanitizeReturnTo } from './return-to.js'

/**
 * The OAuth `state`: `s1.<payload>.<mac>`, where payload is base64url JSON
 * and mac is base64url HMAC-SHA256 of the payload text. Hand-written
 * because openid-client treats state as an opaque string the app keeps;
 * we keep nothing server-side before the callback, so the state carries
 * its own integrity, age and the browser binding.
 */
export const STATE_VERSION = 's1'
export const MAX_STATE_LENGTH = 512
export const STATE_MAX_AGE_S = 600
export const STATE_MAX_FUTURE_S = 30
export const RANDOM_BYTES = 16

export interface StatePayload {
  /** Id of the key that signed. */
  kid: string
  /** Random, unique per login: the one-time-use key. */
  rnd: string
  /** Issued at, seconds since the epoch. */
  iat: number
  /** SHA-256 (base64url) of the binding value held in this browser's cookie. */
  bnd: string
  /** Same-site path to return to. */
  ret: string
}

export type StateFailure = 'length' | 'format' | 'mac' | 'payload' | 'expired' | 'future'
export type StateCheck = { ok: true; payload: StatePayload; key: StateKey } | { ok: false; reason: StateFailure }

export function bindingHash (binding: string): string {
  return createHash('sha256').update(binding).digest('base64url')
}

function mac (key: StateKey, payload: string): Buffer {
  return createHmac('sha256', key.mac).update(payload).digest()
}

export function createState (key: StateKey, binding: string, returnTo: string, nowMs: number): string {
  const payload: StatePayload = {
    kid: key.id,
    rnd: randomBytes(RANDOM_BYTES).toString('base64url'),
    iat: Math.floor(nowMs / 1000),
    bnd: bindingHash(binding),
    ret: returnTo,
  }
  const text = Buffer.from(JSON.stringify(payload)).toString('base64url')
  return `${STATE_VERSION}.${text}.${mac(key, text).toString('base64url')}`
}

const B64URL = /^[A-Za-z0-9_-]+$/

function isPayload (value: unknown): value is StatePayload {
  if (typeof value !== 'object' || value === null) return false
  const p = value as Record<string, unknown>
  return (
    typeof p.kid === 'string' &&
    typeof p.rnd === 'string' && p.rnd.length >= 22 && B64URL.test(p.rnd) &&
    Number.isSafeInteger(p.iat) &&
    typeof p.bnd === 'string' && p.bnd.length === 43 &&
    typeof p.ret === 'string' && sanitizeReturnTo(p.ret) === p.ret
  )
}

/**
 * Checks a state: length, then the MAC against every key (before the
 * payload is decoded, so nothing an attacker wrote is parsed unless one of
 * our keys signed it), then the payload's shape and its age. The binding
 * and single use are the caller's (they need the cookie and the store).
 */
export function verifyState (state: string, keys: readonly StateKey[], nowMs: number): StateCheck {
  if (state.length > MAX_STATE_LENGTH) return { ok: false, reason: 'length' }
  const parts = state.split('.')
  if (parts.length !== 3 || parts[0] !== STATE_VERSION || !B64URL.test(parts[1]) || !B64URL.test(parts[2])) {
    return { ok: false, reason: 'format' }
  }
  // Compared as text, not decoded bytes: base64url's last character has
  // spare bits, and a changed character must never verify.
  const given = Buffer.from(parts[2])
  let signer: StateKey | undefined
  for (const key of keys) {
    const expected = Buffer.from(mac(key, parts[1]).toString('base64url'))
    if (given.length === expected.length && timingSafeEqual(given, expected)) signer = key
  }
  if (signer === undefined) return { ok: false, reason: 'mac' }
  let payload: unknown
  try {
    payload = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8'))
  } catch {
    return { ok: false, reason: 'payload' }
  }
  if (!isPayload(payload)) return { ok: false, reason: 'payload' }
  const now = Math.floor(nowMs / 1000)
  if (now - payload.iat > STATE_MAX_AGE_S) return { ok: false, reason: 'expired' }
  if (payload.iat - now > STATE_MAX_FUTURE_S) return { ok: false, reason: 'future' }
  return { ok: true, payload, key: signer }
}
