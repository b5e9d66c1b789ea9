import t, { type Test } from 'tap'
import { webhookPlugin } from '../../index.js'
import { caught, makeApp } from '../helpers.js'
import { SPEC } from './helpers.js'

t.test('bad plugin options are refused at register, every problem listed', async (t) => {
  const app = makeApp(t)
  const err = await caught(() => app.register(webhookPlugin, {
    tolerance: 'soon',
    bodyLimit: 0,
    replay: { ttl: 5, maxKeys: 'many', store: { redis: 'http://127.0.0.1' } },
    extra: true,
  } as never).ready())
  t.equal(err.code, 'FST_RAMPART_INVALID_OPTIONS')
  t.same(err.problems, [
    "webhook.tolerance: must be integer or a duration like '30s', '5m', '72h' (got string)",
    'webhook.bodyLimit: must be >= 1 (got number)',
    'webhook.replay.store.redis: must be an ioredis client or a redis:// URL (got string)',
    'webhook.replay.maxKeys: must be integer (got string)',
    'webhook.extra: is not a known option',
  ])
})

t.test('a replay ttl shorter than twice the tolerance is refused at register', async (t) => {
  const err = await caught(() => makeApp(t).register(webhookPlugin, { tolerance: '10m', replay: { ttl: '15m' } }).ready())
  t.same(err.problems, ['webhook.replay.ttl: must be at least twice the tolerance (1200000 ms)'])
})

async function routeProblems (t: Test, webhook: unknown): Promise<{ code?: string; message: string; problems?: string[] }> {
  const app = makeApp(t)
  await app.register(webhookPlugin)
  return caught(() => app.post('/hook', { config: { security: { webhook: webhook as never } } }, async () => 'no'))
}

t.test('a route config of the wrong shape always throws FST_RAMPART_INVALID_ROUTE_CONFIG', async (t) => {
  const cases: [unknown, string[]][] = [
    [true, ['config.security.webhook: must be false or an object (got boolean)']],
    [{}, ['config.security.webhook.scheme: is required']],
    [{ scheme: 'svix', secrets: 'whsec_x' }, [
      "config.security.webhook.scheme: must be one of 'standard', 'stripe', 'github' (got string)",
      'config.security.webhook.secrets: must be a list (got string)',
    ]],
    [{ scheme: 'github', secrets: [], replay: 'yes', bodyLimit: -1, tolerance: '5 minutes', extra: 1 }, [
      'config.security.webhook.secrets: must not have fewer than 1 items',
      "config.security.webhook.tolerance: must be integer or a duration like '30s', '5m', '72h' (got string)",
      'config.security.webhook.bodyLimit: must be >= 1 (got number)',
      'config.security.webhook.replay: must be boolean or an object (got string)',
      'config.security.webhook.extra: is not a known option',
    ]],
    [{ scheme: 'stripe', secrets: [''], replay: { ttl: '1m', other: 1 } }, [
      'config.security.webhook.secrets[0]: must be a non-empty string (got string)',
      'config.security.webhook.replay.other: is not a known option',
    ]],
  ]
  for (const [config, problems] of cases) {
    const err = await routeProblems(t, config)
    t.equal(err.code, 'FST_RAMPART_INVALID_ROUTE_CONFIG', JSON.stringify(config))
    t.same(err.problems, problems, JSON.stringify(config))
  }
})

t.test('keys that cannot work for the scheme are refused, without echoing them', async (t) => {
  const secret = 'not base64 at all!'
  const cases: [unknown, string[]][] = [
    [{ scheme: 'standard', secrets: [SPEC.secret, `whsec_${secret}`], publicKeys: ['whpk_AAAA'] }, [
      'config.security.webhook.secrets[1]: must be whsec_ followed by base64 (got string)',
      'config.security.webhook.publicKeys[0]: must be an Ed25519 public key: whpk_ followed by 32 bytes in base64 (got string)',
    ]],
    [{ scheme: 'standard', secrets: ['whsec_'] }, ['config.security.webhook.secrets[0]: must be whsec_ followed by base64 (got string)']],
    [{ scheme: 'standard' }, ['config.security.webhook: set secrets (v1) or publicKeys (v1a)']],
    [{ scheme: 'stripe' }, ['config.security.webhook.secrets: is required']],
    [{ scheme: 'github', secrets: [secret], publicKeys: ['whpk_x'], tolerance: '1m' }, [
      'config.security.webhook.publicKeys: only the standard scheme signs with public keys',
      'config.security.webhook.tolerance: github deliveries carry no timestamp',
    ]],
    [{ scheme: 'stripe', secrets: [secret], tolerance: '1h', replay: { ttl: '90m' } }, ['config.security.webhook.replay.ttl: must be at least twice the tolerance (7200000 ms)']],
    [{ scheme: 'standard', secrets: [SPEC.secret], tolerance: '2d' }, ['config.security.webhook.replay.ttl: must be at least twice the tolerance (345600000 ms)']],
  ]
  for (const [config, problems] of cases) {
    const err = await routeProblems(t, config)
    t.equal(err.code, 'FST_RAMPART_INVALID_ROUTE_CONFIG')
    t.same(err.problems, problems, JSON.stringify(config))
    t.notOk(err.message.includes(secret), 'the secret is not echoed')
  }
})

t.test('accepted: keys without their prefixes, github with any replay ttl, replay off with a long tolerance', async (t) => {
  const app = makeApp(t)
  await app.register(webhookPlugin)
  app.post('/a', { config: { security: { webhook: { scheme: 'standard', secrets: [SPEC.secret.slice(6)], publicKeys: [Buffer.alloc(32, 1).toString('base64')] } } } }, async () => 'ok')
  app.post('/b', { config: { security: { webhook: { scheme: 'github', secrets: ['s'], replay: { ttl: '1s' } } } } }, async () => 'ok')
  app.post('/c', { config: { security: { webhook: { scheme: 'stripe', secrets: ['s'], tolerance: '1d', replay: false } } } }, async () => 'ok')
  await app.ready()
  t.pass()
})

t.test("a route's own bodyLimit is kept: Fastify's parser applies it after verification", async (t) => {
  const app = makeApp(t)
  await app.register(webhookPlugin)
  app.post('/hook', { bodyLimit: 5, config: { security: { webhook: { scheme: 'github', secrets: ['s'], replay: false } } } }, async () => 'ok')
  const { signWebhook } = await import('../../index.js')
  const res = await app.inject({ method: 'POST', url: '/hook', headers: { 'content-type': 'text/plain', ...signWebhook({ scheme: 'github', secret: 's', body: 'too long' }) }, payload: 'too long' })
  t.equal(res.statusCode, 413)
  t.equal(res.json().code, 'FST_ERR_CTP_BODY_TOO_LARGE')
})

t.test('registering twice, or beside another rawBody decorator, works', async (t) => {
  const app = makeApp(t)
  app.decorateRequest('webhook', undefined)
  await app.register(webhookPlugin)
  await app.register(async (child) => {
    await child.register(webhookPlugin)
  })
  await app.ready()
  t.ok(app.hasRequestDecorator('rawBody'))
})
