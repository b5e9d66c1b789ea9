import type { HstsOptions, PermissionsPolicy, ReferrerPolicyValue } from '../../schemas/headers.js'
import { directiveName } from './csp.js'

// One pure "options → header value" function per header, so each is tested
// alone and the plugin is only composition. Problems are pushed, not thrown,
// so one registration reports every fault at once.

/** https://datatracker.ietf.org/doc/html/rfc6797#section-6.1 and https://hstspreload.org/#deployment-recommendations */
export function hstsValue (options: Required<HstsOptions>, path: string, problems: string[]): string {
  if (options.preload && (options.maxAge < 31536000 || !options.includeSubDomains)) {
    problems.push(`${path}.preload: the preload list requires maxAge >= 31536000 and includeSubDomains`)
  }
  let value = `max-age=${options.maxAge}`
  if (options.includeSubDomains) value += '; includeSubDomains'
  if (options.preload) value += '; preload'
  return value
}

/** A list is a fallback chain: browsers use the last value they understand. */
export function referrerPolicyValue (policy: ReferrerPolicyValue | ReferrerPolicyValue[]): string {
  return Array.isArray(policy) ? policy.join(', ') : policy
}

/**
 * Denied unless the page asks: powerful features a typical site never uses,
 * so an injected script or a third-party frame cannot use them either.
 */
export const DEFAULT_PERMISSIONS: PermissionsPolicy = {
  accelerometer: [],
  browsingTopics: [],
  camera: [],
  displayCapture: [],
  geolocation: [],
  gyroscope: [],
  hid: [],
  idleDetection: [],
  magnetometer: [],
  microphone: [],
  midi: [],
  payment: [],
  serial: [],
  usb: [],
  xrSpatialTracking: [],
}

function isOrigin (value: string): boolean {
  try {
    const url = new URL(value)
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === value.toLowerCase()
  } catch {
    return false
  }
}

/** Structured-field syntax: `camera=(), geolocation=(self "https://maps.example")`. */
export function permissionsPolicyValue (policy: PermissionsPolicy, path: string, problems: string[]): string {
  const parts: string[] = []
  for (const [feature, allow] of Object.entries(policy) as [string, string[]][]) {
    const name = directiveName(feature)
    if (allow.length === 1 && allow[0] === '*') {
      parts.push(`${name}=*`)
      continue
    }
    const members: string[] = []
    allow.forEach((entry, i) => {
      if (entry === 'self' || entry === 'src') members.push(entry)
      else if (isOrigin(entry)) members.push(`"${entry}"`)
      else {
        problems.push(
          `${path}.${feature}[${i}]: must be 'self', 'src', an origin like https://example.com, or ['*'] alone`
        )
      }
    })
    parts.push(`${name}=(${members.join(' ')})`)
  }
  return parts.join(', ')
}

/** The report URL must be https (or a same-origin path) and safe inside a quoted structured-field string. */
export function reportUrlProblem (url: string): string | undefined {
  if (/[\s";,\\]/.test(url)) return 'must not contain whitespace, quotes, ";", "," or "\\"'
  if (url.startsWith('/') && !url.startsWith('//')) return undefined
  try {
    const parsed = new URL(url)
    const local =
      parsed.hostname === 'localhost' || parsed.hostname === '127.0.0.1' || parsed.hostname === '[::1]'
    if (parsed.protocol === 'https:' || (parsed.protocol === 'http:' && local)) return undefined
  } catch {}
  return 'must be an https URL or a path starting with "/"'
}

/** https://w3c.github.io/reporting/#header */
export function reportingEndpointsValue (group: string, url: string): string {
  return `${group}="${url}"`
}
