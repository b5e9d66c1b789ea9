import { createHmac, createSecretKey, randomBytes } from 'node:crypto'
import { invalidOptions } from '../../lib/errors.js'
import { checkOptions } from '../../lib/options.js'
import { type SignWebhookOptions, SignWebhookOptionsSchema } from '../../schemas/webhook.js'
import { standardContent, standardSecret } from './standard.js'

/**
 * The headers that make `body` a valid delivery of `scheme`: for your own
 * outbound webhooks (Standard Webhooks) and for tests of your handlers.
 * Send `body` byte for byte as given.
 */
export function signWebhook (options: SignWebhookOptions): Record<string, string> {
  const { scheme, secret, body, id, timestamp: at } = checkOptions<SignWebhookOptions>(SignWebhookOptionsSchema, options, 'signWebhook')
  if (typeof body !== 'string' && !(body instanceof Uint8Array)) throw invalidOptions(['signWebhook.body: must be a string or a Buffer (got object)'])
  const timestamp = String(at ?? Math.floor(Date.now() / 1000))
  if (scheme === 'standard') {
    const key = standardSecret(secret)
    if (key === undefined) throw invalidOptions(['signWebhook.secret: must be whsec_ followed by base64 (got string)'])
    const msgId = id ?? `msg_${randomBytes(16).toString('base64url')}`
    const signature = createHmac('sha256', key).update(standardContent(msgId, timestamp)).update(body).digest('base64')
    return { 'webhook-id': msgId, 'webhook-timestamp': timestamp, 'webhook-signature': `v1,${signature}` }
  }
  const key = createSecretKey(Buffer.from(secret))
  if (scheme === 'stripe') {
    const signature = createHmac('sha256', key).update(`${timestamp}.`).update(body).digest('hex')
    return { 'stripe-signature': `t=${timestamp},v1=${signature}` }
  }
  return { 'x-hub-signature-256': `sha256=${createHmac('sha256', key).update(body).digest('hex')}` }
}
