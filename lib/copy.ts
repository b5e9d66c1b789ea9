/** True for `{}` literals and `Object.create(null)` objects, false for class instances. */
export function isPlainObject (value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/**
 * Keys that are never option names. `JSON.parse` makes `__proto__` an own
 * key; assigned to a copy it would set the copy's prototype instead, and the
 * options it carries would be inherited past every check (issue 10).
 */
export const RESERVED_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype'])

/** `target[key] = value` that always makes an own data property, even for `__proto__`. */
export function setOwn (target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, writable: true, enumerable: true, configurable: true })
}

/** The own value under `key`, never one inherited from a prototype. */
export function ownValue (object: Record<string, unknown>, key: string): unknown {
  return Object.hasOwn(object, key) ? object[key] : undefined
}

/**
 * Deep-copies plain objects and arrays, and keeps everything else (functions,
 * Redis clients, RegExps) by reference. `structuredClone` would throw on
 * functions and class instances, which options legitimately contain. Own
 * `__proto__` keys stay own keys, so the options check can refuse them.
 */
export function copyPlain<T> (value: T): T {
  if (Array.isArray(value)) return value.map(copyPlain) as T
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(value)) setOwn(out, key, copyPlain(value[key]))
    return out as T
  }
  return value
}

/**
 * Merges `over` onto `base` without touching either: plain objects merge key
 * by key, anything else (arrays, `false`, strings) replaces. This is how a
 * route's config is laid over its plugin's options.
 */
export function mergeOver (base: unknown, over: unknown): unknown {
  if (over === undefined) return copyPlain(base)
  if (!isPlainObject(base) || !isPlainObject(over)) return copyPlain(over)
  const out: Record<string, unknown> = copyPlain(base)
  for (const key of Object.keys(over)) setOwn(out, key, mergeOver(ownValue(base, key), over[key]))
  return out
}
