import t from 'tap'
import { addStep, endFusing, startFusing } from '../../lib/steps.js'
import { makeApp } from '../helpers.js'

// securityPlugin's one onRequest hook: the steps run in order, may wait,
// may answer, and stop the chain when they do.

t.test('fused steps run in order, wait for promises, and stop once one answers', async (t) => {
  const app = makeApp(t)
  const seen: string[] = []
  startFusing(app)
  addStep(app, 'one', (request) => { seen.push(`one ${request.url}`); return true })
  addStep(app, 'two', async (request, reply) => {
    seen.push('two')
    if (request.url === '/stop-async') {
      reply.code(429).send({ stopped: 'async' })
      return false
    }
    return true
  })
  addStep(app, 'three', (request, reply) => {
    seen.push('three')
    if (request.url === '/stop') {
      reply.code(400).send({ stopped: 'sync' })
      return false
    }
    return true
  })
  endFusing(app)
  // After endFusing, a step is a hook of its own, after the fused one.
  addStep(app, 'own', () => { seen.push('own'); return true })
  app.get('/*', async () => { seen.push('handler'); return { ok: true } })

  t.equal((await app.inject('/go')).statusCode, 200)
  t.same(seen.splice(0), ['one /go', 'two', 'three', 'own', 'handler'])
  t.same((await app.inject('/stop')).json(), { stopped: 'sync' })
  t.same(seen.splice(0), ['one /stop', 'two', 'three'])
  t.same((await app.inject('/stop-async')).json(), { stopped: 'async' })
  t.same(seen.splice(0), ['one /stop-async', 'two'])
})

t.test('a step whose promise rejects ends the request through the error handler, not a hang', async (t) => {
  const app = makeApp(t)
  addStep(app, 'broken', async () => { throw new Error('store exploded') })
  app.get('/', async () => ({ ok: true }))
  const res = await app.inject('/')
  t.equal(res.statusCode, 500)
})

t.test('hooks carry names: the fused one rampartSecurity, a lone step its own', async (t) => {
  const app = makeApp(t)
  startFusing(app)
  addStep(app, 'rampartInside', () => true)
  endFusing(app)
  addStep(app, 'rampartAlone', () => true)
  app.get('/', async () => ({ ok: true }))
  await app.ready()
  const routes = app.printRoutes({ includeHooks: true })
  t.match(routes, /rampartSecurity/)
  t.match(routes, /rampartAlone/)
  t.notMatch(routes, /rampartInside/)
})

t.test('a plugin registered alone runs the route guard and its step from one hook named for it', async (t) => {
  const { rateLimitPlugin } = await import('../../index.js')
  const app = makeApp(t)
  await app.register(rateLimitPlugin, { limit: 5 })
  app.get('/', async () => ({ ok: true }))
  await app.ready()
  const routes = app.printRoutes({ includeHooks: true })
  t.match(routes, /rampartRateLimit/)
  t.notMatch(routes, /rampartUnappliedRouteConfig/, 'the guard is a step of that hook')
  t.equal((await app.inject('/')).headers['x-ratelimit-limit'], '5')
})
