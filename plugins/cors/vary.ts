import type { FastifyReply } from 'fastify'
import { getHeader, headersOf } from '../../lib/reply-headers.js'

/** Adds Origin to a Vary value unless it is there already (or `*`); a list is one value, as @fastify/cors reads it. */
export function varyWithOrigin (current: unknown): string {
  const value = Array.isArray(current) ? current.join(', ') : current
  if (typeof value !== 'string' || value.trim() === '') return 'Origin'
  const tokens = value.split(',').map((t) => t.trim().toLowerCase())
  if (tokens.includes('*')) return '*'
  return tokens.includes('origin') ? value : `${value}, Origin`
}

/**
 * Every CORS answer depends on Origin, so caches must key on it. The common
 * case (no Vary yet) costs one lookup and one write; an earlier hook's Vary
 * is merged without duplicates, and left alone when it already says Origin.
 */
export function addOriginToVary (reply: FastifyReply): void {
  const current = getHeader(reply, 'vary')
  if (current === undefined) {
    headersOf(reply).vary = 'Origin'
    return
  }
  const merged = varyWithOrigin(current)
  if (merged !== current) reply.header('vary', merged)
}
