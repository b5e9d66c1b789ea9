import { NONCE_SLOT, validFrameAncestor } from './csp.js'

// Per-request frame-ancestors (contentSecurityPolicy.frameAncestorsFor), for
// multi-tenant pages that each tenant may embed on its own site. Only the
// routes whose header set has the hook pay for it: the policy is split once,
// at registration, into the fixed part and the frame-ancestors directive.

/** Most sources one answer may list: a tenant's few sites, never an unbounded list. */
export const MAX_FRAME_ANCESTORS = 32

/** A CSP header whose frame-ancestors directive is chosen per request. */
export interface DynamicCsp {
  name: string
  /** The policy without frame-ancestors, split on the nonce slot (one part when it has no nonce). */
  head: string[]
  /** The configured directive (`frame-ancestors 'none'` by default), sent when the hook answers undefined. */
  fallback: string | undefined
}

/** Splits a rendered policy (directives never contain ";") into the rest and its frame-ancestors directive. */
export function splitFrameAncestors (name: string, policy: string): DynamicCsp {
  const rest: string[] = []
  let fallback: string | undefined
  for (const part of policy.split('; ')) {
    if (part === 'frame-ancestors' || part.startsWith('frame-ancestors ')) fallback = part
    else rest.push(part)
  }
  return { name, head: rest.join('; ').split(NONCE_SLOT), fallback }
}

/**
 * The directive for one answer of the hook: `undefined` keeps the configured
 * one; a list of valid sources is sent as given; anything else (not an
 * array, too long, a source that fails the CSP grammar, which could inject
 * directives) is refused as a whole and answered `'none'`.
 */
export function frameAncestorsDirective (answer: unknown, fallback: string | undefined): string | undefined | false {
  if (answer === undefined) return fallback
  if (!Array.isArray(answer) || answer.length > MAX_FRAME_ANCESTORS) return false
  if (answer.length === 0) return "frame-ancestors 'none'"
  for (let i = 0; i < answer.length; i++) if (!validFrameAncestor(answer[i])) return false
  if (answer.length > 1 && answer.some((s) => (s as string).toLowerCase() === "'none'")) return false
  return `frame-ancestors ${answer.join(' ')}`
}

/** The whole header value: the fixed part (with this response's nonce) and the chosen directive. */
export function renderDynamicCsp (csp: DynamicCsp, nonce: () => string, directive: string | undefined): string {
  const head = csp.head.length === 1 ? csp.head[0] : csp.head.join(nonce())
  if (directive === undefined) return head
  return head === '' ? directive : `${head}; ${directive}`
}
