import type { FastifyReply } from 'fastify'

// The response-header fast path (issue 17). Fastify keeps a reply's headers
// in a plain object under a symbol (`fastify.reply.headers`, there since
// Fastify 3) and Node keeps a raw response's under `kOutHeaders` (null
// until one is set). Both are found once, by description, like the route
// context in route-context.ts; where either is missing, the public API does
// the same work more slowly.
//
// `reply.header()` lowercases the name and checks for set-cookie, and one
// call site storing a dozen different names into one object is a slow
// (megamorphic) store: about 60 ns a header, most of the cost of a header
// set. An object literal with the set's names, made by a function compiled
// once per set, costs about 20 ns for all of them.

type Pair = readonly [name: string, value: string]
type Bag = Record<string, unknown>
type Keyed = Record<symbol, Bag | null | undefined>

let kReply: symbol | null | undefined
let kOut: symbol | null | undefined

function symbolOf (target: object, description: string): symbol | null {
  return Object.getOwnPropertySymbols(target).find((s) => s.description === description) ?? null
}

/** Fastify's header object of this reply, or undefined on a Fastify that keeps it elsewhere. */
export function replyHeaders (reply: FastifyReply): Bag | undefined {
  if (kReply === undefined) kReply = symbolOf(reply, 'fastify.reply.headers')
  return kReply === null ? undefined : ((reply as unknown as Keyed)[kReply] as Bag)
}

/**
 * The reply's header object, to write lowercase names into directly (a
 * store of a constant name is far cheaper than `reply.header()`); without
 * the symbol, an object that passes each write to `reply.header()`.
 */
export function headersOf (reply: FastifyReply): Bag {
  return replyHeaders(reply) ?? new Proxy({}, {
    get: (_target, name) => reply.getHeader(name as string),
    set: (_target, name, value) => {
      reply.header(name as string, value)
      return true
    },
  })
}

/** False when Node certainly holds no header for this response (`reply.raw.setHeader`), found without building a name list. */
export function rawHasHeaders (reply: FastifyReply): boolean {
  const raw = reply.raw
  if (kOut === undefined) kOut = symbolOf(raw, 'kOutHeaders')
  if (kOut === null) return raw.getHeaderNames().length > 0
  return (raw as unknown as Keyed)[kOut] != null
}

/** `reply.getHeader(name)` for a lowercase name, skipping Node's probe while Node holds no header. */
export function getHeader (reply: FastifyReply, name: string): unknown {
  const own = replyHeaders(reply)?.[name]
  if (own !== undefined) return own
  return rawHasHeaders(reply) ? reply.getHeader(name) : undefined
}

/** `reply.hasHeader(name)` for a lowercase name, the same way. */
export function hasHeader (reply: FastifyReply, name: string): boolean {
  return getHeader(reply, name) !== undefined
}

function isEmpty (bag: Bag): boolean {
  for (const key in bag) if (Object.hasOwn(bag, key)) return false
  return true
}

type Make = (values: readonly string[]) => Bag

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9a-z-]+$/

// eslint-disable-next-line no-new-func -- only header names reach the source, as JSON string literals (below)
const compileSource = (source: string): Make => new Function('v', source) as Make

/**
 * The literal's maker. Only the names reach the source, as JSON string
 * literals (valid JavaScript for every string); the values are passed in.
 * Fastify compiles serializers the same way, so a Fastify app already
 * allows code generation; where it is forbidden, a copy does the job.
 */
export function compileMaker (names: readonly string[], compile: (source: string) => Make = compileSource): Make {
  // `"__proto__": v` in a literal would set the prototype, not a header.
  const bad = names.find((name) => !HEADER_NAME.test(name) || name === '__proto__')
  if (bad !== undefined) throw new TypeError(`not a lowercase header name: ${JSON.stringify(bad)}`)
  const source = `return {${names.map((name, i) => `${JSON.stringify(name)}: v[${i}]`).join(', ')}}`
  try {
    return compile(source)
  } catch {
    return (values) => {
      const bag: Bag = {}
      for (let i = 0; i < names.length; i++) bag[names[i]] = values[i]
      return bag
    }
  }
}

/** Writes one precomputed header list (lowercase names, no set-cookie). */
export type HeaderWriter = (reply: FastifyReply) => void

/**
 * A writer for `pairs`: while the reply has no header yet (the usual case
 * in the first onRequest step), Fastify's empty object is swapped for a
 * fresh literal; otherwise each header is set, replacing one already there.
 */
export function headerWriter (pairs: readonly Pair[], compile?: (source: string) => Make): HeaderWriter {
  const make = compileMaker(pairs.map((p) => p[0]), compile)
  const values = pairs.map((p) => p[1])
  return function writeHeaderList (reply) {
    const bag = replyHeaders(reply)
    if (bag !== undefined && isEmpty(bag)) {
      ;(reply as unknown as Keyed)[kReply as symbol] = make(values)
      return
    }
    for (let i = 0; i < pairs.length; i++) reply.header(pairs[i][0], pairs[i][1])
  }
}

/** For tests: forget the symbols found, so a reply without them can be tried. */
export function resetReplyHeaderSymbols (): void {
  kReply = undefined
  kOut = undefined
}
