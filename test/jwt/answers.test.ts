import { connect } from 'node:net'
import t from 'tap'
import corsPlugin from '../../plugins/cors/plugin.js'
import jwtPlugin from '../../plugins/jwt/plugin.js'
import { captureLogs, headersOf, makeApp } from '../helpers.js'
import { bearer, fakeClock, jwtApp, localIssuer, makeKey, sign } from './helpers.js'

const clock = fakeClock()
const rsa = await makeKey('RS256')
const JSON_TYPE = 'application/json; charset=utf-8'

const REQUIRED = {
  status: 401,
  headers: { 'content-type': JSON_TYPE, 'www-authenticate': 'Bearer realm="api"' },
  body: { statusCode: 401, code: 'FST_RAMPART_AUTH_REQUIRED', error: 'Unauthorized', message: 'Authentication required' },
}

function invalidRequest (reason: string) {
  return {
    status: 400,
    headers: { 'content-type': JSON_TYPE, 'www-authenticate': 'Bearer realm="api", error="invalid_request"' },
    body: { statusCode: 400, code: 'FST_RAMPART_AUTH_INVALID_REQUEST', error: 'Bad Request', message: `Malformed Authorization header: ${reason}` },
  }
}

async function answer (app: Awaited<ReturnType<typeof jwtApp>>, url: string, headers: Record<string, string | string[]> = {}) {
  const res = await app.inject({ url, headers })
  return { status: res.statusCode, headers: headersOf(res), body: res.json() }
}

t.test('no Bearer credentials is 401 with the bare challenge', async (t) => {
  const app = await jwtApp(t, { issuers: [localIssuer(rsa)], now: clock.now })
  const token = await sign(rsa, { clock })
  t.same(await answer(app, '/'), REQUIRED, 'no header')
  t.same(await answer(app, '/', { authorization: 'Basic dXNlcjpwYXNz' }), REQUIRED, 'another scheme')
  t.same(await answer(app, `/?access_token=${token}`), REQUIRED, 'a token in the query is not accepted')
  const body = (await app.inject({ url: '/', headers: { authorization: 'Basic x' } })).body
  t.notOk(body.includes('Basic'), 'no credentials echoed')
})

t.test('a malformed Authorization header is 400 invalid_request', async (t) => {
  const app = await jwtApp(t, { issuers: [localIssuer(rsa)], now: clock.now })
  const token = await sign(rsa, { clock })
  t.same(await answer(app, '/', { authorization: 'Bearer' }), invalidRequest('no token'))
  t.same(await answer(app, '/', { authorization: 'Bearer    ' }), invalidRequest('no token'))
  t.same(await answer(app, '/', { authorization: `Bearer ${token} ${token}` }), invalidRequest('several tokens'))
  t.same(await answer(app, '/', { authorization: `Bearer ${token}, Bearer ${token}` }), invalidRequest('several tokens'))
  t.same(await answer(app, '/', { authorization: 'Bearer a"b' }), invalidRequest('not a bearer token'))
  t.same(await answer(app, '/', { authorization: [`Bearer ${token}`, `Bearer ${token}`] }), invalidRequest('several Authorization headers'))
  t.equal((await answer(app, '/', { authorization: `bearer  ${token}` })).status, 200, 'the scheme is case-insensitive')
})

t.test('two Authorization lines on the wire are 400, though Node keeps only the first', async (t) => {
  const app = await jwtApp(t, { issuers: [localIssuer(rsa)], now: clock.now })
  await app.listen({ port: 0, host: '127.0.0.1' })
  const { port } = app.server.address() as { port: number }
  const token = await sign(rsa, { clock })
  // Written by hand: Node's http client would refuse to send two Authorization lines.
  const socket = connect(port, '127.0.0.1')
  socket.end(`GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\nauthorization: Bearer ${token}\r\nConnection: close\r\n\r\n`)
  let raw = ''
  for await (const chunk of socket) raw += chunk
  t.match(raw, /^HTTP\/1\.1 400 Bad Request\r\n/)
  t.match(raw, /\r\nwww-authenticate: Bearer realm="api", error="invalid_request"\r\n/)
})

t.test('a bad token is 401 invalid_token and the body never echoes it; realm is configurable', async (t) => {
  const app = await jwtApp(t, { issuers: [localIssuer(rsa)], now: clock.now, realm: 'orders' })
  const token = await sign(rsa, { clock, claims: { aud: 'someone-else' } })
  const res = await app.inject({ url: '/', headers: bearer(token) })
  t.same({ status: res.statusCode, headers: headersOf(res), body: res.json() }, {
    status: 401,
    headers: { 'content-type': JSON_TYPE, 'www-authenticate': 'Bearer realm="orders", error="invalid_token", error_description="wrong audience"' },
    body: { statusCode: 401, code: 'FST_RAMPART_INVALID_TOKEN', error: 'Unauthorized', message: 'Invalid token: wrong audience' },
  })
  t.notOk(res.body.includes(token.split('.')[1]))
})

t.test('a missing scope is 403 insufficient_scope naming what the route needs', async (t) => {
  const app = await jwtApp(t, { issuers: [localIssuer(rsa)], now: clock.now }, (app) => {
    app.get('/orders', { config: { security: { jwt: { scopes: ['orders:read', 'orders:write'] } } } }, async () => 'ok')
  })
  const token = await sign(rsa, { clock, claims: { scope: 'orders:read' } })
  t.same(await answer(app, '/orders', bearer(token)), {
    status: 403,
    headers: { 'content-type': JSON_TYPE, 'www-authenticate': 'Bearer realm="api", error="insufficient_scope", scope="orders:read orders:write"' },
    body: { statusCode: 403, code: 'FST_RAMPART_INSUFFICIENT_SCOPE', error: 'Forbidden', message: 'Insufficient scope, needs: orders:read orders:write' },
  })
})

t.test("an app's error handler cannot turn a refusal into something else", async (t) => {
  const app = makeApp(t)
  app.setErrorHandler(async () => {
    throw new Error('boom')
  })
  await app.register(jwtPlugin, { issuers: [localIssuer(rsa)], now: clock.now })
  app.get('/', async () => 'ok')
  const res = await app.inject('/')
  t.equal(res.statusCode, 401)
  t.equal(res.headers['www-authenticate'], 'Bearer realm="api"')
})

t.test('refusals are logged with the reason only, one line per 10 s', async (t) => {
  const logs = captureLogs()
  const app = makeApp(t, { logger: { level: 'info', stream: logs.stream } })
  await app.register(jwtPlugin, { issuers: [localIssuer(rsa)], now: clock.now })
  app.get('/', async () => 'ok')
  const token = await sign(rsa, { clock, claims: { aud: 'x' } })
  await app.inject({ url: '/', headers: bearer(token) })
  await app.inject({ url: '/', headers: bearer(token) })
  clock.advance(10_000)
  await app.inject({ url: '/', headers: bearer(token) })
  const lines = logs.lines.filter((l) => l.msg === 'fastify-rampart: bearer token refused')
  t.same(lines.map((l) => [l.status, l.reason, l.suppressed]), [[401, 'wrong audience', 0], [401, 'wrong audience', 1]])
  t.notOk(JSON.stringify(logs.lines).includes(token.split('.')[2]), 'no token text in the logs')
})

t.test('CORS preflights are answered before the token is checked', async (t) => {
  const app = makeApp(t)
  await app.register(corsPlugin, { origins: ['https://app.example.com'], allowedHeaders: ['authorization'] })
  await app.register(jwtPlugin, { issuers: [localIssuer(rsa)], now: clock.now })
  app.get('/', async () => 'ok')
  const res = await app.inject({
    method: 'OPTIONS',
    url: '/',
    headers: { origin: 'https://app.example.com', 'access-control-request-method': 'GET', 'access-control-request-headers': 'authorization' },
  })
  t.equal(res.statusCode, 204)
  t.equal(res.headers['access-control-allow-origin'], 'https://app.example.com')
  t.equal(res.headers['www-authenticate'], undefined)
  t.equal((await app.inject({ url: '/', headers: { origin: 'https://app.example.com' } })).statusCode, 401)
})
