import { STATUS_CODES } from 'node:http'
import type { Socket } from 'node:net'
import type { ConnectionError, FastifyInstance } from 'fastify'
import { invalidOptions } from '../../lib/errors.js'
import type { HeadersOptions } from '../../schemas/headers.js'
import type { Pair } from './header-set.js'
import { resolveHeaderSet } from './resolve.js'

// Node answers a request it cannot parse (bad syntax: 400, headers too large:
// 431, too slow: 408) itself, on the socket, before Fastify has a request, so
// no hook or plugin can add headers to it (issue 10). Fastify's only way in
// is the `clientErrorHandler` server option, set at construction:
//   Fastify({ clientErrorHandler: rampartClientErrorHandler })
// This handler answers like Fastify's default (same status, same JSON body)
// with the API header set the headers plugin sends on JSON responses.

export type ClientErrorHandler = (this: FastifyInstance | void, error: ConnectionError, socket: Socket) => void

const ANSWERS: Record<string, { status: number; message: string; label: string }> = {
  ERR_HTTP_REQUEST_TIMEOUT: { status: 408, message: 'Client Timeout', label: 'timeout' },
  HPE_HEADER_OVERFLOW: { status: 431, message: 'Exceeded maximum allowed HTTP header size', label: 'header_overflow' },
}
const BAD_REQUEST = { status: 400, message: 'Client Error', label: 'error' }

function head (status: number, body: string, pairs: readonly Pair[]): string {
  const lines = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}`,
    `content-length: ${Buffer.byteLength(body)}`,
    'content-type: application/json; charset=utf-8',
    ...pairs.map(([name, value]) => `${name}: ${value}`),
    'connection: close',
  ]
  return `${lines.join('\r\n')}\r\n\r\n`
}

/**
 * A `clientErrorHandler` for `Fastify({ ... })` that sends the headers
 * plugin's API header set (built from `options`, the same options you give
 * headersPlugin) on Node's own 400 / 408 / 431 answers. Options are checked
 * here, at once: bad ones throw FST_RAMPART_INVALID_OPTIONS.
 */
export function createClientErrorHandler (options: HeadersOptions = {}): ClientErrorHandler {
  const problems: string[] = []
  const set = resolveHeaderSet(options, 'clientErrorHandler', problems)
  if (problems.length > 0 || set === undefined) throw invalidOptions(problems)
  const extra: Pair[] = set.cacheControl === undefined ? [] : [['cache-control', set.cacheControl]]
  const plain = [...extra, ...set.api]
  const secure = [...extra, ...set.apiSecure]

  return function rampartClientError (error, socket) {
    // A reset or already closed connection has no one left to answer (as in Fastify's default).
    if (error.code === 'ECONNRESET' || socket.destroyed) return
    const answer = ANSWERS[error.code as string] ?? BAD_REQUEST
    // Fastify binds the handler to the instance; called bare, there is no logger to tell.
    if (this !== undefined) this.log.trace({ err: error }, `client ${answer.label}`)
    if (socket.writable) {
      const body = JSON.stringify({ error: STATUS_CODES[answer.status], message: answer.message, statusCode: answer.status })
      const pairs = (socket as Socket & { encrypted?: boolean }).encrypted === true ? secure : plain
      socket.write(head(answer.status, body, pairs) + body)
    }
    socket.destroy(error)
  }
}

/** `createClientErrorHandler()` with the default (zero-config) header set. */
export const rampartClientErrorHandler: ClientErrorHandler = createClientErrorHandler()
