/**
 * The callback's query, checked before anything else reads it. Fastify's
 * query parser turns a repeated parameter into an array, and libraries
 * differ on which copy they take; refusing repeats outright leaves no
 * ambiguity for an attacker to exploit (a second `state` or `code`).
 */
export type CallbackFailure = 'duplicate' | 'implicit' | 'iss' | 'state'

export type CallbackQuery = { ok: true; params: URLSearchParams; search: string; state: string } | { ok: false; reason: CallbackFailure }

// Tokens in the front channel mean an implicit or hybrid response, which
// this client never asks for: someone else built this redirect.
const FRONT_CHANNEL_TOKENS = ['id_token', 'access_token', 'token']

export function readCallbackQuery (url: string, issuer: string, issRequired: boolean): CallbackQuery {
  const q = url.indexOf('?')
  const search = q === -1 ? '' : url.slice(q)
  const params = new URLSearchParams(search)
  const seen = new Set<string>()
  for (const name of params.keys()) {
    if (seen.has(name)) return { ok: false, reason: 'duplicate' }
    seen.add(name)
  }
  if (FRONT_CHANNEL_TOKENS.some((name) => seen.has(name))) return { ok: false, reason: 'implicit' }
  // RFC 9207: the response names its issuer, so a response from another
  // provider (mix-up attack) is caught; required when the provider says it sends one.
  const iss = params.get('iss')
  if (iss === null ? issRequired : iss !== issuer) return { ok: false, reason: 'iss' }
  const state = params.get('state')
  if (state === null || state === '') return { ok: false, reason: 'state' }
  return { ok: true, params, search, state }
}
