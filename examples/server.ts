import { buildDemo } from './app.js'

const host = process.env.HOST ?? '127.0.0.1'
const port = Number(process.env.PORT ?? 3000)

const app = await buildDemo()
await app.listen({ host, port })

const base = `http://${host.includes(':') ? `[${host}]` : host}:${port}`
console.log(`
fastify-rampart demo on ${base}

  GET /                     HTML page with a per-request CSP nonce
  GET /api/items            JSON API: strict API header set, Cache-Control: no-store
  GET /api/public/catalog   route override: Cache-Control: public, max-age=300
  GET /health               security headers turned off for the route

Try:
  curl -si ${base}/ | sed -n '1,/^\\r$/p'
  curl -si ${base}/api/items
  curl -si ${base}/api/public/catalog | grep -i cache-control
  curl -si ${base}/health
`)
