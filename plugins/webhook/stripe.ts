import type { KeyObject } from 'node:crypto'
import { bodyId, checkTimestamp, hmacSha256, refuse, sameDigest, type Verdict } from './checks.js'
import { collectHeaders, onlyValue } from './headers.js'

/**
 * Stripe (https://docs.stripe.com/webhooks#verify-manually):
 * `Stripe-Signature: t=<seconds>,v1=<hex>[,v1=<hex>]`, HMAC-SHA256 of
 * `t.body` keyed with the whole `whsec_…` string; `v0` (test mode's old
 * scheme) is ignored. Hand-written because stripe-node accepts timestamps
 * any distance in the future and pulls in the whole API client.
 */
export const STRIPE_HEADERS: ReadonlySet<string> = new Set(['stripe-signature'])

// The header is a plain comma list of key=value pairs; anything else (a
// space after a comma, an empty item) is refused rather than tidied up.
const ITEM = /^([a-z0-9]+)=([^=]*)$/
const V1 = /^[0-9a-f]{64}$/
const MAX_ITEMS = 16

export function verifyStripe (secrets: KeyObject[], rawHeaders: string[], body: Buffer, nowSec: number, toleranceSec: number): Verdict {
  const header = onlyValue(collectHeaders(rawHeaders, STRIPE_HEADERS), 'stripe-signature')
  if (typeof header !== 'string') return header
  const items = header.split(',')
  if (items.length > MAX_ITEMS) return refuse('too many items in stripe-signature')
  let timestampText: string | undefined
  const signatures: Buffer[] = []
  for (const item of items) {
    const match = ITEM.exec(item)
    if (match === null) return refuse('stripe-signature is malformed')
    const [, key, value] = match
    if (key === 't') {
      if (timestampText !== undefined) return refuse('stripe-signature has two timestamps')
      timestampText = value
    } else if (key === 'v1' && V1.test(value)) {
      signatures.push(Buffer.from(value, 'hex'))
    }
  }
  if (timestampText === undefined) return refuse('stripe-signature has no timestamp')
  const timestamp = checkTimestamp(timestampText, nowSec, toleranceSec)
  if (typeof timestamp !== 'number') return timestamp
  if (signatures.length === 0) return refuse('stripe-signature has no v1 signature')
  const prefix = `${timestampText}.`
  for (const secret of secrets) {
    const digest = hmacSha256(secret, prefix, body)
    // A retry carries the same event body under a new `t`: the body is the delivery's id.
    if (signatures.some((signature) => sameDigest(signature, digest))) return { ok: true, id: bodyId(body), timestamp }
  }
  return refuse('no signature matched')
}
