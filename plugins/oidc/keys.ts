import { createHmac, hkdfSync } from 'node:crypto'

/**
 * One entry of `stateSecrets`, prepared once at register: the raw bytes
 * sign the state (HMAC-SHA256, as the issue specifies), a key derived with
 * HKDF encrypts the cookie (one secret, two purposes, two keys), and a
 * short id names the key in the state and the cookie, so logs show which
 * secret signed and the cookie finds its key without trying them all.
 */
export interface StateKey {
  id: string
  mac: Buffer
  cookie: Buffer
}

export const MIN_SECRET_BYTES = 32

export function deriveKey (secret: string | Uint8Array): StateKey {
  const mac = typeof secret === 'string' ? Buffer.from(secret, 'utf8') : Buffer.from(secret)
  const id = createHmac('sha256', mac).update('fastify-rampart oidc key id').digest().subarray(0, 6).toString('base64url')
  const cookie = Buffer.from(hkdfSync('sha256', mac, Buffer.alloc(0), 'fastify-rampart oidc cookie v1', 32))
  return { id, mac, cookie }
}
