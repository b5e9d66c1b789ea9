import { checkSpiffeId, type SpiffeId } from './spiffe-id.js'

// Envoy's x-forwarded-client-cert, parsed by hand (no maintained parser
// exists): elements split by `,`, key=value pairs by `;`, values optionally
// double-quoted with `\` escapes (`Subject="CN=a;b,c"`), so separators
// inside quotes are data. Each proxy hop appends an element: the last one
// is what the proxy next to us saw.
// https://www.envoyproxy.io/docs/envoy/latest/configuration/http/http_conn_man/headers#x-forwarded-client-cert

type Pair = [key: string, value: string]

/** The elements of an XFCC value, or undefined when it is malformed. */
export function parseXfcc (header: string): Pair[][] | undefined {
  const elements: Pair[][] = []
  let pairs: Pair[] = []
  let i = 0
  for (;;) {
    const eq = header.indexOf('=', i)
    if (eq === -1) return undefined
    const key = header.slice(i, eq).trim()
    if (key === '' || /[,;"]/.test(key)) return undefined
    let value = ''
    i = eq + 1
    if (header[i] === '"') {
      i++
      while (i < header.length && header[i] !== '"') {
        if (header[i] === '\\') i++
        value += header[i] ?? ''
        i++
      }
      if (i >= header.length) return undefined
      i++
    } else {
      while (i < header.length && header[i] !== ';' && header[i] !== ',') {
        if (header[i] === '"') return undefined
        value += header[i]
        i++
      }
    }
    pairs.push([key, value])
    const next = header[i]
    if (next === undefined) break
    if (next !== ';' && next !== ',') return undefined
    if (next === ',') {
      elements.push(pairs)
      pairs = []
    }
    i++
  }
  elements.push(pairs)
  return elements
}

/** The SPIFFE ID a trusted proxy forwards (the last element's one `URI=`), or why it is refused. */
export function forwardedId (header: string): SpiffeId | string {
  const elements = parseXfcc(header)
  if (elements === undefined) return 'x-forwarded-client-cert is malformed'
  const uris = elements[elements.length - 1].filter(([key]) => key.toLowerCase() === 'uri')
  if (uris.length !== 1) return `x-forwarded-client-cert must name exactly one URI (got ${uris.length})`
  const id = checkSpiffeId(uris[0][1])
  if (typeof id === 'string') return `the forwarded URI is not a valid SPIFFE ID: ${id}`
  if (id.path === '') return 'a forwarded SPIFFE ID must have a path'
  return id
}
