import autocannon from 'autocannon'
import Fastify from 'fastify'
import { JWT_VARIANTS } from './jwt-variants.js'
const results: Record<string, number[]> = {}
for (let round = 0; round < 2; round++) {
  for (const [name, v] of Object.entries(JWT_VARIANTS)) {
    const app = Fastify()
    await v.build(app)
    app.get('/', async () => ({ hello: 'world' }))
    await app.listen({ port: 0, host: '127.0.0.1' })
    const { port } = app.server.address() as { port: number }
    const r = await autocannon({ url: `http://127.0.0.1:${port}/`, connections: 10, duration: 2, headers: v.headers })
    ;(results[name] ??= []).push(r.requests.average)
    await app.close()
  }
}
console.log(JSON.stringify(results))
