import type { KeyObject } from 'node:crypto'
import { bodyId, hmacSha256, refuse, sameDigest, type Verdict } from './checks.js'
import { collectHeaders, onlyValue } from './headers.js'

/**
 * GitHub (https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries):
 * `X-Hub-Signature-256: sha256=<lowercase hex>`, HMAC-SHA256 of the body.
 * The SHA-1 `X-Hub-Signature` alone is refused. Deliveries carry no
 * timestamp and `X-GitHub-Delivery` is not signed, so the body's hash is
 * the replay id and the replay TTL is the only replay window.
 */
export const GITHUB_HEADERS: ReadonlySet<string> = new Set(['x-hub-signature-256'])

const SIGNATURE = /^sha256=([0-9a-f]{64})$/

export function verifyGithub (secrets: KeyObject[], rawHeaders: string[], body: Buffer): Verdict {
  const header = onlyValue(collectHeaders(rawHeaders, GITHUB_HEADERS), 'x-hub-signature-256')
  if (typeof header !== 'string') return header
  const match = SIGNATURE.exec(header)
  if (match === null) return refuse('x-hub-signature-256 is not sha256=<64 lowercase hex>')
  const received = Buffer.from(match[1], 'hex')
  for (const secret of secrets) {
    if (sameDigest(received, hmacSha256(secret, '', body))) return { ok: true, id: bodyId(body), timestamp: undefined }
  }
  return refuse('no signature matched')
}
