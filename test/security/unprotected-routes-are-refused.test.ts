import Fastify from 'fastify'
import t from 'tap'
import { rateLimitPlugin, securityPlugin } from '../../index.js'
import { declareSecurityKey, routeSecurityConfig, securityKeyServed } from '../../lib/route-config.js'
import { caught, makeApp } from '../helpers.js'

const NOT_REGISTERED = (key: string) =>
  `config.security.${key}: no ${key}Plugin (securityPlugin's ${key} option) is registered in this route's scope, so this setting would do nothing; register it in this scope or a parent before adding the route (if you did, \`await app.register(...)\` before adding routes)`

t.test('a route naming a plugin that is off is refused when it is added, naming the plugin', async (t) => {
  const app = makeApp(t)
  await app.register(securityPlugin, { rateLimit: false })
  const err = await caught(() =>
    app.post('/login', { config: { security: { rateLimit: { limit: 5, window: '15m' }, trustedHost: { allowedHosts: ['a.example'] }, cors: { origins: ['https://a.example'] } } } }, async () => 'ok')
  )
  t.equal(err.code, 'FST_RAMPART_INVALID_ROUTE_CONFIG')
  t.same(err.problems, [NOT_REGISTERED('rateLimit'), NOT_REGISTERED('trustedHost'), NOT_REGISTERED('cors')])
  // false turns off what is not there: harmless.
  app.get('/health', { config: { security: { rateLimit: false, cors: false } } }, async () => 'ok')
  t.equal((await app.inject('/health')).statusCode, 200)
})

t.test("a plugin in a child scope does not cover the parent's routes", async (t) => {
  const app = makeApp(t)
  await app.register(securityPlugin, { rateLimit: false })
  await app.register(async (child) => {
    await child.register(rateLimitPlugin, { limit: 1 })
    child.get('/child', { config: { security: { rateLimit: { cost: 1 } } } }, async () => 'ok')
    t.ok(securityKeyServed(child, 'rateLimit'))
  })
  t.notOk(securityKeyServed(app, 'rateLimit'))
  const err = await caught(() => app.get('/parent', { config: { security: { rateLimit: { cost: 1 } } } }, async () => 'ok'))
  t.same(err.problems, [NOT_REGISTERED('rateLimit')])
  t.same([(await app.inject('/child')).statusCode, (await app.inject('/child')).statusCode], [200, 429])
})

t.test('a register that was not awaited before a route is refused at route add, saying to await it', async (t) => {
  const app = makeApp(t)
  await app.register(securityPlugin, { rateLimit: false })
  app.register(rateLimitPlugin, { limit: 1 }) // not awaited: its onRoute hook does not exist yet
  const err = await caught(() => app.post('/login', { config: { security: { rateLimit: { limit: 5, window: '15m' } } } }, async () => 'ok'))
  t.match(err.problems?.[0], /`await app\.register\(\.\.\.\)`/)
})

t.test('declareSecurityKey: a plugin that declares a key but never read a route is caught at ready()', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  declareSecurityKey(app, 'jwt')
  declareSecurityKey(app, 'jwt') // idempotent
  app.get('/a', { config: { security: { jwt: { scopes: ['x'] } } as never } }, async () => 'ok')
  app.get('/b', { config: { security: { jwt: false } as never } }, async () => 'ok')
  const err = await caught(() => app.ready())
  t.equal(err.code, 'FST_RAMPART_INVALID_ROUTE_CONFIG')
  t.same(err.problems, [
    'GET /a: config.security.jwt was never read: its plugin was registered after this route was added; `await app.register(...)` each fastify-rampart plugin before adding routes',
    'HEAD /a: config.security.jwt was never read: its plugin was registered after this route was added; `await app.register(...)` each fastify-rampart plugin before adding routes',
  ])
})

t.test('declareSecurityKey with a plugin that reads its key: accepted', async (t) => {
  const app = Fastify()
  t.teardown(() => app.close())
  declareSecurityKey(app, 'webhook')
  const read: unknown[] = []
  app.addHook('onRoute', (routeOptions) => {
    read.push(routeSecurityConfig(routeOptions, 'webhook'))
  })
  app.post('/hook', { config: { security: { webhook: { scheme: 'github' } } as never } }, async () => 'ok')
  // A route another hook refuses after the checker saw it is not reported at ready().
  app.addHook('onRoute', (routeOptions) => {
    if (routeOptions.url === '/refused') throw new Error('refused by another hook')
  })
  await caught(() => app.post('/refused', { config: { security: { webhook: { scheme: 'x' } } as never } }, async () => 'ok'))
  await app.ready()
  t.same(read, [{ scheme: 'github' }, { scheme: 'x' }])
})

t.test('the checker also refuses a malformed security container', async (t) => {
  const app = makeApp(t)
  declareSecurityKey(app, 'mtls')
  const err = await caught(() => app.get('/x', { config: { security: 'on' as never } }, async () => 'ok'))
  t.same(err.problems, ['config.security: must be an object (got string)'])
})
