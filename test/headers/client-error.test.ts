import { connect, type Socket } from 'node:net'
import type { ConnectionError } from 'fastify'
import t from 'tap'
import { createClientErrorHandler, headersPlugin, rampartClientErrorHandler } from '../../index.js'
import { API_DEFAULTS, caught, HSTS_DEFAULT, makeApp } from '../helpers.js'

// Issue 10, item 9: Node answers malformed requests (400, 431) itself, so no
// hook adds headers. The clientErrorHandler option is the only way in.

/** Sends raw bytes and returns the status and the header fields of the answer. */
async function raw (port: number, text: string): Promise<{ status: number; headers: Record<string, string>; body: string }> {
  const socket = connect(port, '127.0.0.1')
  socket.end(text)
  let data = ''
  for await (const chunk of socket) data += String(chunk)
  const [head, body] = data.split('\r\n\r\n')
  const [statusLine, ...fields] = head.split('\r\n')
  const headers: Record<string, string> = {}
  for (const field of fields) {
    const colon = field.indexOf(':')
    headers[field.slice(0, colon).toLowerCase()] = field.slice(colon + 1).trim()
  }
  return { status: Number(statusLine.split(' ')[1]), headers, body }
}

const WIRE = { ...API_DEFAULTS, connection: 'close' }

t.test('malformed requests get the API header set from rampartClientErrorHandler', async (t) => {
  const app = makeApp(t, { clientErrorHandler: rampartClientErrorHandler })
  await app.register(headersPlugin)
  app.get('/', async () => ({ ok: true }))
  await app.listen({ port: 0, host: '127.0.0.1' })
  const port = (app.server.address() as { port: number }).port

  const bad = await raw(port, 'GET / HTTP/1.1\r\nHost: a\r\nno colon here\r\n\r\n')
  t.equal(bad.status, 400)
  const body400 = '{"error":"Bad Request","message":"Client Error","statusCode":400}'
  t.same(bad.headers, { ...WIRE, 'content-length': String(body400.length) })
  t.equal(bad.body, body400)

  const big = await raw(port, `GET / HTTP/1.1\r\nHost: a\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`)
  t.equal(big.status, 431)
  const body431 = '{"error":"Request Header Fields Too Large","message":"Exceeded maximum allowed HTTP header size","statusCode":431}'
  t.same(big.headers, { ...WIRE, 'content-length': String(body431.length) })
  t.equal(big.body, body431)
})

t.test("without it, Node's answers carry no security headers (the documented exception)", async (t) => {
  const app = makeApp(t)
  await app.register(headersPlugin)
  await app.listen({ port: 0, host: '127.0.0.1' })
  const bad = await raw((app.server.address() as { port: number }).port, 'GET / HTTP/1.1\r\nno colon\r\n\r\n')
  t.equal(bad.status, 400)
  t.equal(bad.headers['x-content-type-options'], undefined)
})

/** A stand-in socket that records what the handler writes. */
function fakeSocket (state: { destroyed?: boolean; writable?: boolean; encrypted?: boolean } = {}) {
  const written: string[] = []
  const destroyed: unknown[] = []
  const socket = {
    destroyed: false,
    writable: true,
    ...state,
    write: (text: string) => written.push(text),
    destroy: (err: unknown) => destroyed.push(err),
  }
  return { socket: socket as unknown as Socket, written, destroyed }
}

const error = (code: string) => Object.assign(new Error(code), { code, rawPacket: Buffer.alloc(0), bytesParsed: 0 }) as unknown as ConnectionError

t.test('timeouts, TLS, resets and closed sockets', async (t) => {
  const timeout = fakeSocket()
  rampartClientErrorHandler(error('ERR_HTTP_REQUEST_TIMEOUT'), timeout.socket)
  t.match(timeout.written[0], /^HTTP\/1\.1 408 Request Timeout\r\n/)
  t.match(timeout.written[0], /"message":"Client Timeout","statusCode":408}$/)
  t.notMatch(timeout.written[0], /strict-transport-security/, 'no HSTS over plain HTTP')
  t.equal(timeout.destroyed.length, 1)

  const tls = fakeSocket({ encrypted: true })
  rampartClientErrorHandler(error('HPE_INVALID_METHOD'), tls.socket)
  t.match(tls.written[0], `\r\nstrict-transport-security: ${HSTS_DEFAULT}\r\n`, 'HSTS over TLS')

  const reset = fakeSocket()
  rampartClientErrorHandler(error('ECONNRESET'), reset.socket)
  const gone = fakeSocket({ destroyed: true })
  rampartClientErrorHandler(error('HPE_INVALID_METHOD'), gone.socket)
  t.same([reset.written, reset.destroyed, gone.written, gone.destroyed], [[], [], [], []], 'nothing to answer')

  const closing = fakeSocket({ writable: false })
  rampartClientErrorHandler(error('HPE_INVALID_METHOD'), closing.socket)
  t.same(closing.written, [])
  t.equal(closing.destroyed.length, 1, 'still destroyed')
})

t.test('createClientErrorHandler follows the headers options, and checks them', async (t) => {
  const custom = createClientErrorHandler({ frameOptions: 'SAMEORIGIN', cacheControl: false, hsts: { force: true, maxAge: 60 } })
  const out = fakeSocket()
  custom(error('HPE_INVALID_METHOD'), out.socket)
  t.match(out.written[0], '\r\nx-frame-options: SAMEORIGIN\r\n')
  t.match(out.written[0], '\r\nstrict-transport-security: max-age=60; includeSubDomains\r\n')
  t.notMatch(out.written[0], /cache-control/)
  const err = await caught(() => createClientErrorHandler({ frameOptions: 'nope' as never }))
  t.equal(err.code, 'FST_RAMPART_INVALID_OPTIONS')
  t.match(err.problems?.[0], /^clientErrorHandler\.frameOptions: /)
})
