/** True for `{}` literals and `Object.create(null)` objects, false for class instances. */
export function isPlainObject (value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object') return false
  const proto = Object.getPrototypeOf(value)
  return proto === Object.prototype || proto === null
}

/**
 * Deep-copies plain objects and arrays, and keeps everything else (functions,
 * Redis clients, RegExps) by reference. `structuredClone` would throw on
 * functions and class instances, which options legitimately contain.
 */
export function copyPlain<T> (value: T): T {
  if (Array.isArray(value)) return value.map(copyPlain) as T
  if (isPlainObject(value)) {
    const out: Record<string, unknown> = {}
    for (const key of Object.keys(value)) out[key] = copyPlain(value[key])
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
  for (const key of Object.keys(over)) out[key] = mergeOver(base[key], over[key])
  return out
}
