import { refuse, type Verdict } from './checks.js'

/**
 * Each value of the wanted headers, from the raw list Node received. Node
 * joins repeated headers with ", " (or keeps only the first) in
 * `request.headers`, which would let a second signature or timestamp slip
 * through unnoticed; the raw list shows every occurrence.
 */
export function collectHeaders (rawHeaders: string[], wanted: ReadonlySet<string>): Map<string, string[]> {
  const found = new Map<string, string[]>()
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i].toLowerCase()
    if (!wanted.has(name)) continue
    const values = found.get(name)
    if (values === undefined) found.set(name, [rawHeaders[i + 1]])
    else values.push(rawHeaders[i + 1])
  }
  return found
}

/** The single value of `name`, or a reason: missing, or sent more than once. */
export function onlyValue (found: Map<string, string[]>, name: string): string | Verdict {
  const values = found.get(name)
  if (values === undefined) return refuse(`header ${name} is missing`)
  if (values.length > 1) return refuse(`header ${name} is repeated`)
  return values[0]
}
