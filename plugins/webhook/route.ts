import { createSecretKey, type KeyObject } from 'node:crypto'
import { toMs } from '../../lib/duration.js'
import type { WebhookRouteConfig, WebhookScheme } from '../../schemas/webhook.js'
import type { Verdict } from './checks.js'
import { verifyGithub } from './github.js'
import { standardPublicKey, standardSecret, verifyStandard } from './standard.js'
import { verifyStripe } from './stripe.js'

/** The plugin-wide values a route falls back on. */
export interface WebhookDefaults {
  toleranceMs: number
  bodyLimit: number
  replayTtlMs: number
}

/** Everything a webhook route needs per request, decided when the route is added. */
export interface WebhookRoute {
  scheme: WebhookScheme
  bodyLimit: number
  /** How long a processed delivery is remembered; undefined when replay protection is off. */
  replayTtlMs: number | undefined
  verify: (rawHeaders: string[], body: Buffer, nowSec: number) => Verdict
}

type RouteObject = Exclude<WebhookRouteConfig, false>

function keys (list: string[] | undefined, parse: (key: string) => KeyObject | undefined, path: string, expected: string, problems: string[]): KeyObject[] {
  const out: KeyObject[] = []
  for (const [i, key] of (list ?? []).entries()) {
    const parsed = parse(key)
    if (parsed === undefined) problems.push(`${path}[${i}]: must be ${expected} (got string)`)
    else out.push(parsed)
  }
  return out
}

/** Turns a checked `config.security.webhook` object into keys and a verify function, or pushes its problems. */
export function compileRoute (own: RouteObject, defaults: WebhookDefaults, path: string, problems: string[]): WebhookRoute {
  const toleranceMs = own.tolerance === undefined ? defaults.toleranceMs : toMs(own.tolerance)
  const toleranceSec = toleranceMs / 1000
  let verify: WebhookRoute['verify']
  if (own.scheme === 'standard') {
    const secrets = keys(own.secrets, standardSecret, `${path}.secrets`, 'whsec_ followed by base64', problems)
    const publicKeys = keys(own.publicKeys, standardPublicKey, `${path}.publicKeys`, 'an Ed25519 public key: whpk_ followed by 32 bytes in base64', problems)
    if (own.secrets === undefined && own.publicKeys === undefined) problems.push(`${path}: set secrets (v1) or publicKeys (v1a)`)
    verify = (rawHeaders, body, nowSec) => verifyStandard({ secrets, publicKeys }, rawHeaders, body, nowSec, toleranceSec)
  } else {
    if (own.secrets === undefined) problems.push(`${path}.secrets: is required`)
    if (own.publicKeys !== undefined) problems.push(`${path}.publicKeys: only the standard scheme signs with public keys`)
    // The whole string is the key, `whsec_` included (Stripe), or whatever GitHub was given.
    const secrets = (own.secrets ?? []).map((secret) => createSecretKey(Buffer.from(secret)))
    if (own.scheme === 'stripe') {
      verify = (rawHeaders, body, nowSec) => verifyStripe(secrets, rawHeaders, body, nowSec, toleranceSec)
    } else {
      if (own.tolerance !== undefined) problems.push(`${path}.tolerance: github deliveries carry no timestamp`)
      verify = (rawHeaders, body) => verifyGithub(secrets, rawHeaders, body)
    }
  }
  let replayTtlMs: number | undefined
  if (own.replay !== false) {
    const ttl = own.replay === undefined || own.replay === true ? undefined : own.replay.ttl
    replayTtlMs = ttl === undefined ? defaults.replayTtlMs : toMs(ttl)
    // A replay must be refused for as long as its timestamp is accepted, on either side of now.
    if (own.scheme !== 'github' && replayTtlMs < 2 * toleranceMs) {
      problems.push(`${path}.replay.ttl: must be at least twice the tolerance (${2 * toleranceMs} ms)`)
    }
  }
  return { scheme: own.scheme, bodyLimit: own.bodyLimit ?? defaults.bodyLimit, replayTtlMs, verify }
}
