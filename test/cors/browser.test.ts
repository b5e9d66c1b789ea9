import { existsSync } from 'node:fs'
import Fastify, { type FastifyInstance } from 'fastify'
import { chromium } from 'playwright-core'
import t from 'tap'
import { corsPlugin } from '../../index.js'

// A real browser enforces CORS; this checks that what we send makes
// Chromium do the right thing. Page origins are http://localhost:<port> and
// http://127.0.0.1:<port>, the API http://localhost:<another port>.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'
const available = existsSync(CHROMIUM)
// In CI the test must run (and fail without Chromium); elsewhere it may skip.
const skip = !available && process.env.CI !== 'true'
  ? `Chromium not found at ${CHROMIUM}: install Debian's chromium (CI installs it) to run the browser test`
  : false
t.test('Chromium reads allowed responses and blocks the rest', { skip }, async (t) => {
  const page = async (): Promise<FastifyInstance> => {
    const app = Fastify()
    app.get('/', async (_req, reply) => reply.type('text/html').send('<!doctype html><title>page</title>'))
    await app.listen({ port: 0, host: '127.0.0.1' })
    return app
  }
  const allowedPage = await page()
  const refusedPage = await page()
  t.teardown(() => allowedPage.close())
  t.teardown(() => refusedPage.close())
  const allowedOrigin = `http://localhost:${(allowedPage.server.address() as { port: number }).port}`
  const refusedOrigin = `http://127.0.0.1:${(refusedPage.server.address() as { port: number }).port}`

  const api = Fastify()
  t.teardown(() => api.close())
  await api.register(corsPlugin, {
    origins: [allowedOrigin],
    credentials: true,
    methods: ['GET', 'PUT'],
    allowedHeaders: ['content-type', 'x-allowed'],
  })
  api.get('/data', async (request) => ({ secret: 42, cookie: request.headers.cookie ?? null }))
  api.put('/data', async () => ({ updated: true }))
  await api.listen({ port: 0, host: '127.0.0.1' })
  // Same site as the allowed page (ports do not make a site), so its SameSite=Lax cookie goes along.
  const apiUrl = `http://localhost:${(api.server.address() as { port: number }).port}/data`

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  })
  t.teardown(() => browser.close())
  const context = await browser.newContext()
  await context.addCookies([{ name: 'session', value: 'abc', url: apiUrl.replace('/data', '/') }])
  const tab = await context.newPage()

  const call = (init: Record<string, unknown>) =>
    tab.evaluate(
      async ([url, options]) => {
        try {
          const res = await fetch(url as string, options as RequestInit)
          return { status: res.status, body: await res.json() }
        } catch (err) {
          return { blocked: String(err) }
        }
      },
      [apiUrl, init]
    )

  await tab.goto(allowedOrigin)
  t.same(await call({ credentials: 'include' }), { status: 200, body: { secret: 42, cookie: 'session=abc' } }, 'allowed origin reads it, cookie sent')
  t.same(await call({ method: 'PUT', headers: { 'x-allowed': '1', 'content-type': 'application/json' }, body: '{}' }), {
    status: 200,
    body: { updated: true },
  }, 'preflighted PUT with allowed headers')
  t.match(await call({ headers: { 'x-not-allowed': '1' } }), { blocked: /TypeError/ }, 'a header not allowed fails the preflight')
  t.match(await call({ method: 'DELETE' }), { blocked: /TypeError/ }, 'a method not allowed fails the preflight')

  await tab.goto(refusedOrigin)
  t.match(await call({ credentials: 'include' }), { blocked: /TypeError/ }, 'refused origin is blocked by the browser')
  t.match(await call({}), { blocked: /TypeError/ })
})
