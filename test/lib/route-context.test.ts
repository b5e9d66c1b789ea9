import t from 'tap'
import { routeConfigOf } from '../../lib/route-context.js'
import { makeApp } from '../helpers.js'

t.test('the route config is read from the route context, the object routeOptions.config returns', async (t) => {
  // A request-like object without Fastify's context symbol falls back to routeOptions.
  const config = { mine: true }
  t.equal(routeConfigOf({ routeOptions: { config } } as never), config)
  const app = makeApp(t)
  const seen: boolean[] = []
  app.get('/', { config: { mine: 'route' } }, async (request) => {
    seen.push(routeConfigOf(request) === (request.routeOptions.config as unknown))
    return routeConfigOf(request).mine
  })
  t.equal((await app.inject('/')).body, 'route')
  t.equal((await app.inject('/')).body, 'route')
  t.same(seen, [true, true])
  // A later request-like object without the symbol still gets its own config.
  t.equal(routeConfigOf({ routeOptions: { config } } as never), config)
})
