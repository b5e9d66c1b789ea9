import type { OidcOptions } from '../../schemas/oidc.js'
import { MIN_SECRET_BYTES } from './keys.js'

/** Loopback hosts, where plain http is allowed (development, tests; RFC 8252 section 8.3). */
export function isLoopback (hostname: string): boolean {
  return hostname === 'localhost' || hostname === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname)
}

function checkUrl (value: string, path: string, problems: string[]): URL | undefined {
  let url: URL
  try {
    url = new URL(value)
  } catch {
    problems.push(`${path}: must be an absolute URL`)
    return undefined
  }
  if (url.protocol === 'http:' && !isLoopback(url.hostname)) {
    problems.push(`${path}: must use https (plain http only on loopback: localhost, 127.0.0.1, [::1])`)
  }
  if (value.includes('#')) problems.push(`${path}: must not have a fragment`)
  return url
}

/**
 * The checks TypeBox cannot express: URL schemes, loopback-only http, no
 * fragment, `openid` among the scopes, the secrets' byte length, and the
 * callback route actually being the redirect URI's path. Pushes one line
 * per problem, never a secret's value.
 */
export function checkOidcOptions (options: Required<Pick<OidcOptions, 'issuer' | 'redirectUri' | 'scopes' | 'stateSecrets' | 'loginPath' | 'callbackPath'>>, problems: string[]): void {
  const issuer = checkUrl(options.issuer, 'oidc.issuer', problems)
  if (issuer !== undefined && issuer.search !== '') problems.push('oidc.issuer: must not have a query')
  const redirect = checkUrl(options.redirectUri, 'oidc.redirectUri', problems)
  if (redirect !== undefined && !redirect.pathname.endsWith(options.callbackPath)) {
    problems.push('oidc.callbackPath: must be the path of redirectUri (the provider sends the user back there)')
  }
  if (!options.scopes.includes('openid')) problems.push("oidc.scopes: must include 'openid'")
  options.stateSecrets.forEach((secret, i) => {
    if (typeof secret !== 'string' && !(secret instanceof Uint8Array)) {
      problems.push(`oidc.stateSecrets[${i}]: must be a string or a Buffer`)
    } else if (Buffer.byteLength(secret) < MIN_SECRET_BYTES) {
      problems.push(`oidc.stateSecrets[${i}]: must be at least ${MIN_SECRET_BYTES} bytes (e.g. 32 random bytes, base64)`)
    }
  })
  if (options.loginPath === options.callbackPath) problems.push('oidc.loginPath: must differ from callbackPath')
}
