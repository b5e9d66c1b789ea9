import t from 'tap'
import { securityPlugin } from '../../index.js'
import { makeApp } from '../helpers.js'

// Issue 10, item 10: methods are case-sensitive (RFC 9110 §9.1). Browsers
// upper-case only DELETE, GET, HEAD, OPTIONS, POST and PUT, so a preflight
// asking for `patch` asks for a method other than PATCH.

const APP = 'https://app.example.com'

t.test('Access-Control-Request-Method is compared case-sensitively', async (t) => {
  const app = makeApp(t)
  await app.register(securityPlugin, { rateLimit: false, cors: { origins: [APP], methods: ['GET', 'PATCH'] } })
  app.patch('/items', async () => 'patched')
  const ask = (method: string) =>
    app.inject({ method: 'OPTIONS', url: '/items', headers: { origin: APP, 'access-control-request-method': method } })
  const allowed = await ask('PATCH')
  t.equal(allowed.statusCode, 204)
  t.equal(allowed.headers['access-control-allow-methods'], 'GET, PATCH')
  for (const method of ['patch', 'Patch', 'get']) {
    const res = await ask(method)
    t.equal(res.statusCode, 403, method)
    t.equal(res.headers['access-control-allow-origin'], undefined, method)
  }
})
