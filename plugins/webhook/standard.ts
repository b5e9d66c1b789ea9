import { createPublicKey, createSecretKey, type KeyObject, verify } from 'node:crypto'
import { checkTimestamp, hmacSha256, refuse, sameDigest, type Verdict } from './checks.js'
import { collectHeaders, onlyValue } from './headers.js'

/**
 * Standard Webhooks (https://www.standardwebhooks.com/, the spec Svix
 * implements): `webhook-id`, `webhook-timestamp`, `webhook-signature` (or
 * the same under `svix-`), signed content `id.timestamp.body`, `v1` HMAC-
 * SHA256 in base64 and `v1a` Ed25519. Hand-written because standardwebhooks
 * parses `1674087231abc` as a timestamp and signs a UTF-8 decoding of the
 * body (binary bodies then fail or, worse, collide).
 */
export interface StandardKeys {
  secrets: KeyObject[]
  publicKeys: KeyObject[]
}

const STANDARD = ['webhook-id', 'webhook-timestamp', 'webhook-signature'] as const
const SVIX = ['svix-id', 'svix-timestamp', 'svix-signature'] as const
export const STANDARD_HEADERS: ReadonlySet<string> = new Set([...STANDARD, ...SVIX])

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/
const V1 = /^[A-Za-z0-9+/]{43}=$/
const V1A = /^[A-Za-z0-9+/]{86}==$/
// Ids are used in the signed content (`id.timestamp.body`): a "." would make it ambiguous.
const ID = /^[^.]{1,256}$/
/** More signatures than any rotation needs: refused, so a header cannot make us run many Ed25519 checks. */
const MAX_SIGNATURES = 16

function decodeBase64 (text: string): Buffer | undefined {
  if (text === '' || !BASE64.test(text)) return undefined
  return Buffer.from(text, 'base64')
}

/** A `whsec_…` secret as an HMAC key, or undefined when it is not (prefix optional, as in the reference libraries). */
export function standardSecret (secret: string): KeyObject | undefined {
  const bytes = decodeBase64(secret.startsWith('whsec_') ? secret.slice(6) : secret)
  return bytes === undefined ? undefined : createSecretKey(bytes)
}

/** A `whpk_…` Ed25519 public key (32 bytes, base64), or undefined. */
export function standardPublicKey (key: string): KeyObject | undefined {
  const bytes = decodeBase64(key.startsWith('whpk_') ? key.slice(5) : key)
  if (bytes?.length !== 32) return undefined
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: bytes.toString('base64url') }, format: 'jwk' })
}

export function standardContent (id: string, timestamp: string): string {
  return `${id}.${timestamp}.`
}

export function verifyStandard (keys: StandardKeys, rawHeaders: string[], body: Buffer, nowSec: number, toleranceSec: number): Verdict {
  const found = collectHeaders(rawHeaders, STANDARD_HEADERS)
  const names = found.has('webhook-id') || !found.has('svix-id') ? STANDARD : SVIX
  const id = onlyValue(found, names[0])
  if (typeof id !== 'string') return id
  const timestampText = onlyValue(found, names[1])
  if (typeof timestampText !== 'string') return timestampText
  const signature = onlyValue(found, names[2])
  if (typeof signature !== 'string') return signature
  if (!ID.test(id)) return refuse('id is empty, too long or contains "."')
  const timestamp = checkTimestamp(timestampText, nowSec, toleranceSec)
  if (typeof timestamp !== 'number') return timestamp

  const entries = signature.split(' ')
  if (entries.length > MAX_SIGNATURES) return refuse('too many signatures')
  const prefix = standardContent(id, timestampText)
  let digests: Buffer[] | undefined
  let content: Buffer | undefined
  for (const entry of entries) {
    const comma = entry.indexOf(',')
    if (comma < 0) continue
    const version = entry.slice(0, comma)
    const value = entry.slice(comma + 1)
    if (version === 'v1' && V1.test(value)) {
      // Computed once, only when a v1 signature is there to compare.
      digests ??= keys.secrets.map((key) => hmacSha256(key, prefix, body))
      const received = Buffer.from(value, 'base64')
      if (digests.some((digest) => sameDigest(received, digest))) return { ok: true, id, timestamp }
    } else if (version === 'v1a' && V1A.test(value)) {
      content ??= Buffer.concat([Buffer.from(prefix), body])
      const received = Buffer.from(value, 'base64')
      if (keys.publicKeys.some((key) => verify(null, content as Buffer, key, received))) return { ok: true, id, timestamp }
    }
    // Anything else (unknown version, malformed value): skipped, as the spec asks.
  }
  return refuse('no signature matched')
}
