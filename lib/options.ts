import type { TSchema } from 'typebox'
import { Value } from 'typebox/value'
import { copyPlain, isPlainObject, ownValue, RESERVED_KEYS, setOwn } from './copy.js'
import { invalidOptions } from './errors.js'

// Keys Fastify itself reads from every `register` call's options; they are
// not ours to validate.
const REGISTER_KEYS = ['prefix', 'logLevel', 'logSerializers']

type Schema = TSchema & Record<string, unknown>

/** What a value is, for messages: never the value itself, which may be a secret. */
export function kindOf (value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'array'
  if (typeof value !== 'object' || isPlainObject(value)) return typeof value
  // A class instance by its class name (Map, RegExp, Date); an object made with Object.create(proto) as such.
  const proto = Object.getPrototypeOf(value) as Record<string, unknown>
  const ctor = ownValue(proto, 'constructor')
  return typeof ctor === 'function' && ctor.name !== '' ? ctor.name : 'object with a prototype'
}

/** An object schema with fields (TypeBox Object or Record), as opposed to an opaque `{ type: 'object' }` (a client, a store). */
function isStructured (schema: Schema): boolean {
  return schema.type === 'object' && (schema.properties !== undefined || schema.patternProperties !== undefined)
}

/** An object that is not a plain one: its fields would come from a prototype or not be fields at all (Map). */
function isForeignObject (value: unknown): boolean {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !isPlainObject(value)
}

function alternatives (schema: Schema): string[] {
  if (typeof schema.errorMessage === 'string' && Array.isArray(schema.anyOf)) return [schema.errorMessage.replace(/^must be /, '')]
  if ('const' in schema) { return [typeof schema.const === 'string' ? `'${schema.const}'` : String(schema.const)] }
  if (Array.isArray(schema.anyOf)) return (schema.anyOf as Schema[]).flatMap(alternatives)
  if (typeof schema.errorMessage === 'string') return [schema.errorMessage.replace(/^must be /, '')]
  if (schema.type === 'array') return ['a list']
  if (schema.type === 'object') return ['an object']
  return [String(schema.type)]
}

function describe (schema: Schema): string {
  const parts = alternatives(schema)
  return parts.length > 2 ? `one of ${parts.join(', ')}` : parts.join(' or ')
}

function leafMessage (schema: Schema, value: unknown): string {
  if (typeof schema.errorMessage === 'string') return schema.errorMessage
  if ('const' in schema || schema.type === 'object' || schema.type === 'array') { return `must be ${describe(schema)}` }
  // Check failed, so Errors has an entry.
  return Value.Errors(schema, value)[0].message
}

function branchOf (branches: Schema[], value: unknown): Schema | undefined {
  const type = Array.isArray(value) ? 'array' : isPlainObject(value) ? 'object' : undefined
  if (type === undefined) return undefined
  const matching = branches.filter((b) => b.type === type)
  return matching.length === 1 ? matching[0] : undefined
}

/**
 * Walks `value` against `schema`, filling defaults in place (the value is
 * already a private copy) and pushing one `path: problem` line per fault.
 * TypeBox's `Value.Errors` reports unions as a pile of branch failures and
 * `Value.Default` skips defaults inside unions; walking the schema ourselves
 * gives one precise line per field and defaults at every depth.
 */
function walk (schema: Schema, value: unknown, path: string, out: string[]): unknown {
  if (Array.isArray(schema.anyOf)) {
    const branches = schema.anyOf as Schema[]
    const branch = branchOf(branches, value)
    if (branch !== undefined) return walk(branch, value, path, out)
    if (isForeignObject(value) && branches.some(isStructured) && !branches.some((b) => b.type === 'object' && !isStructured(b))) {
      out.push(`${path}: must be a plain object (got ${kindOf(value)})`)
      return value
    }
    if (!Value.Check(schema, value)) out.push(`${path}: must be ${describe(schema)} (got ${kindOf(value)})`)
    return value
  }
  if (schema.type === 'object' && isPlainObject(value)) {
    walkObject(schema, value, path, out)
    return value
  }
  if (isStructured(schema) && isForeignObject(value)) {
    out.push(`${path}: must be a plain object (got ${kindOf(value)})`)
    return value
  }
  if (schema.type === 'array' && Array.isArray(value)) {
    const items = schema.items as Schema
    for (let i = 0; i < value.length; i++) value[i] = walk(items, value[i], `${path}[${i}]`, out)
    const own = { ...schema, items: {} }
    if (!Value.Check(own, value)) out.push(`${path}: ${Value.Errors(own, value)[0].message}`)
    return value
  }
  if (!Value.Check(schema, value)) out.push(`${path}: ${leafMessage(schema, value)} (got ${kindOf(value)})`)
  return value
}

function walkObject (schema: Schema, value: Record<string, unknown>, path: string, out: string[]): void {
  const properties = (schema.properties ?? {}) as Record<string, Schema>
  const required = (schema.required ?? []) as string[]
  const patterns = schema.patternProperties as Record<string, Schema> | undefined
  const prefix = path === '' ? '' : `${path}.`
  for (const key of Object.keys(properties)) {
    const child = properties[key]
    if (ownValue(value, key) === undefined && 'default' in child) value[key] = copyPlain(child.default)
    if (ownValue(value, key) === undefined) {
      if (required.includes(key)) out.push(`${prefix}${key}: is required`)
      continue
    }
    value[key] = walk(child, value[key], prefix + key, out)
  }
  for (const key of Object.keys(value)) {
    if (RESERVED_KEYS.has(key)) {
      out.push(`${prefix}${key}: is not a known option (__proto__, constructor and prototype are never options)`)
      continue
    }
    if (Object.hasOwn(properties, key)) continue
    if (patterns !== undefined) {
      const [pattern, child] = Object.entries(patterns)[0]
      if (new RegExp(pattern).test(key)) {
        value[key] = walk(child, value[key], prefix + key, out)
        continue
      }
    }
    if (schema.additionalProperties === false || patterns !== undefined) { out.push(`${prefix}${key}: is not a known option`) }
  }
}

/** Removes the keys Fastify's `register` adds to every plugin's options. */
export function withoutRegisterKeys (input: unknown): unknown {
  if (!isPlainObject(input)) return input
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(input)) if (!REGISTER_KEYS.includes(key)) setOwn(out, key, input[key])
  return out
}

/**
 * Checks `input` against `schema` and returns a defaulted private copy, or
 * pushes every problem onto `problems` (each prefixed with `path`). The
 * caller's object is never touched.
 */
export function collectOptions<T> (schema: TSchema, input: unknown, path: string, problems: string[]): T {
  const copy = copyPlain(input === undefined ? {} : input)
  const before = problems.length
  const value = walk(schema as Schema, copy, path, problems)
  /* c8 ignore start -- a safety net: walk() explains every keyword our schemas use */
  if (problems.length === before && !Value.Check(schema, value)) {
    for (const e of Value.Errors(schema, value)) {
      problems.push(`${path}${e.instancePath.replaceAll('/', '.')}: ${e.message}`)
    }
    // A failed check is never taken as a pass, even when nothing could name the field.
    if (problems.length === before) problems.push(`${path}: does not match the options schema`)
  }
  /* c8 ignore stop */
  return value as T
}

/** `collectOptions` that throws `FST_RAMPART_INVALID_OPTIONS` at once. */
export function checkOptions<T> (schema: TSchema, input: unknown, path: string): T {
  const problems: string[] = []
  const value = collectOptions<T>(schema, withoutRegisterKeys(input), path, problems)
  if (problems.length > 0) throw invalidOptions(problems)
  return value
}

/** Recursively drops `default` keywords, for route-config schemas that must not invent values. */
export function withoutDefaults<S extends TSchema> (schema: S): S {
  const strip = (node: unknown): unknown => {
    if (Array.isArray(node)) return node.map(strip)
    if (!isPlainObject(node)) return node
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(node)) if (key !== 'default') setOwn(out, key, strip(node[key]))
    return out
  }
  return strip(schema) as S
}
