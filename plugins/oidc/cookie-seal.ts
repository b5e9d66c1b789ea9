import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'
import type { StateKey } from './keys.js'

/**
 * The login cookie's value: the browser binding, the PKCE verifier and the
 * nonce, sealed with AES-256-GCM so the browser (and anything reading its
 * cookies) never holds the verifier or nonce in the clear, and cannot
 * change them. Format `c1.<kid>.<base64url(iv | ciphertext | tag)>`.
 * Hand-written: @fastify/cookie's signing authenticates but does not
 * encrypt, and @fastify/secure-session would be a second session system.
 */
export interface LoginSecrets {
  /** Random binding value; the state carries its SHA-256. */
  binding: string
  /** PKCE code_verifier. */
  verifier: string
  nonce: string
}

const VERSION = 'c1'
const IV_BYTES = 12
const TAG_BYTES = 16
const MAX_COOKIE_LENGTH = 1024

export function sealCookie (secrets: LoginSecrets, key: StateKey): string {
  const iv = randomBytes(IV_BYTES)
  const cipher = createCipheriv('aes-256-gcm', key.cookie, iv)
  cipher.setAAD(Buffer.from(`${VERSION}.${key.id}`))
  const body = Buffer.concat([cipher.update(JSON.stringify([secrets.binding, secrets.verifier, secrets.nonce])), cipher.final()])
  return `${VERSION}.${key.id}.${Buffer.concat([iv, body, cipher.getAuthTag()]).toString('base64url')}`
}

/** The sealed secrets, or undefined when the value is missing, foreign, altered or not ours. */
export function openCookie (value: string | undefined, keys: readonly StateKey[]): LoginSecrets | undefined {
  if (value === undefined || value.length > MAX_COOKIE_LENGTH) return undefined
  const parts = value.split('.')
  if (parts.length !== 3 || parts[0] !== VERSION) return undefined
  const key = keys.find((k) => k.id === parts[1])
  if (key === undefined) return undefined
  const raw = Buffer.from(parts[2], 'base64url')
  if (raw.length < IV_BYTES + TAG_BYTES + 1) return undefined
  try {
    const decipher = createDecipheriv('aes-256-gcm', key.cookie, raw.subarray(0, IV_BYTES))
    decipher.setAAD(Buffer.from(`${VERSION}.${key.id}`))
    decipher.setAuthTag(raw.subarray(raw.length - TAG_BYTES))
    const text = Buffer.concat([decipher.update(raw.subarray(IV_BYTES, raw.length - TAG_BYTES)), decipher.final()]).toString('utf8')
    const [binding, verifier, nonce] = JSON.parse(text) as [string, string, string]
    return { binding, verifier, nonce }
  } catch {
    return undefined
  }
}
