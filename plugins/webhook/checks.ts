import { createHash, createHmac, type KeyObject, timingSafeEqual } from 'node:crypto'

/** What a scheme's verify function decides: the delivery's id and timestamp, or why it was refused (for the log only). */
export type Verdict = { ok: true; id: string; timestamp: number | undefined } | { ok: false; reason: string }

export function refuse (reason: string): Verdict {
  return { ok: false, reason }
}

// Ten digits at most: seconds until the year 2286. standardwebhooks reads
// `1674087231abc` as 1674087231 (parseInt); we take digits only.
const TIMESTAMP = /^\d{1,10}$/

/** The timestamp in seconds, or a refusal: malformed, or further than `toleranceSec` from now in either direction. */
export function checkTimestamp (value: string, nowSec: number, toleranceSec: number): number | Verdict {
  if (!TIMESTAMP.test(value)) return refuse('timestamp is not 1-10 digits')
  const timestamp = Number(value)
  if (Math.abs(nowSec - timestamp) > toleranceSec) return refuse('timestamp is outside the tolerance')
  return timestamp
}

export function hmacSha256 (key: KeyObject, prefix: string, body: Buffer): Buffer {
  return createHmac('sha256', key).update(prefix).update(body).digest()
}

/** Constant-time comparison of a received signature with the expected one; lengths are public (fixed per scheme). */
export function sameDigest (received: Buffer, expected: Buffer): boolean {
  return received.length === expected.length && timingSafeEqual(received, expected)
}

/** The replay id of schemes whose own id is unsigned or absent: the body itself. */
export function bodyId (body: Buffer): string {
  return createHash('sha256').update(body).digest('hex')
}
