import fc from 'fast-check'
import t from 'tap'
import Type from 'typebox'
import { corsPlugin, headersPlugin, rateLimitPlugin, securityPlugin, trustedHostPlugin } from '../../index.js'
import { copyPlain, mergeOver } from '../../lib/copy.js'
import { checkOptions, kindOf, withoutRegisterKeys } from '../../lib/options.js'
import { explainRouteConfig } from '../../lib/route-config.js'
import { caught, makeApp } from '../helpers.js'

// Issue 10, item 1: config from JSON.parse can carry an own `__proto__` key.
// Assigned into a copy it set the copy's prototype, the problem walk saw
// nothing, and the route ran unprotected. Such keys are now refused.

const RESERVED = 'is not a known option (__proto__, constructor and prototype are never options)'

t.test('a JSON __proto__ key in route config throws instead of switching trustedHost and rateLimit off', async (t) => {
  const app = makeApp(t)
  await app.register(securityPlugin, { trustedHost: { allowedHosts: ['api.example.com'] }, rateLimit: { limit: 1 } })
  const security = JSON.parse('{"trustedHost":{"__proto__":{},"allowedHosts":["admin.example.com"]},"rateLimit":{"__proto__":{},"limit":1}}')
  const err = await caught(() => app.get('/admin', { config: { security } }, async () => 'admin'))
  t.equal(err.code, 'FST_RAMPART_INVALID_ROUTE_CONFIG')
  // securityPlugin lists the problems under every key at once.
  t.same(err.problems, [`config.security.trustedHost.__proto__: ${RESERVED}`, `config.security.rateLimit.__proto__: ${RESERVED}`])
  await app.ready()
  const res = await app.inject({ url: '/admin', headers: { host: 'evil.com' } })
  t.equal(res.statusCode, 400, 'the route was never added; the host check still runs')
})

t.test('a JSON __proto__ key under rateLimit or cors throws', async (t) => {
  const app = makeApp(t)
  await app.register(securityPlugin, { cors: { origins: ['https://app.example'] }, rateLimit: { limit: 1 } })
  const rateLimit = await caught(() =>
    app.get('/a', { config: { security: JSON.parse('{"rateLimit":{"__proto__":{},"limit":1}}') } }, async () => 1)
  )
  t.same(rateLimit.problems, [`config.security.rateLimit.__proto__: ${RESERVED}`])
  const cors = await caught(() =>
    app.get('/b', { config: { security: JSON.parse('{"cors":{"__proto__":{"origins":["*"]}}}') } }, async () => 1)
  )
  t.equal(cors.code, 'FST_RAMPART_INVALID_ROUTE_CONFIG')
  t.same(cors.problems, [`config.security.cors.__proto__: ${RESERVED}`])
})

t.test('a JSON __proto__ key under headers throws a route-config error, not a TypeError', async (t) => {
  const app = makeApp(t)
  await app.register(headersPlugin)
  const err = await caught(() => app.get('/', { config: { security: JSON.parse('{"headers":{"__proto__":{}}}') } }, async () => 1))
  t.equal(err.code, 'FST_RAMPART_INVALID_ROUTE_CONFIG')
  t.same(err.problems, [`config.security.headers.__proto__: ${RESERVED}`])
})

t.test('a JSON __proto__ key in plugin options never registers "allow any host"', async (t) => {
  const app = makeApp(t)
  const err = await caught(async () => {
    await app.register(trustedHostPlugin, JSON.parse('{"__proto__":{"allowedHosts":["*"]}}'))
    await app.ready()
  })
  t.equal(err.code, 'FST_RAMPART_INVALID_OPTIONS')
  t.same(err.problems, ['trustedHost.allowedHosts: is required', `trustedHost.__proto__: ${RESERVED}`])
})

t.test('constructor and toString keys are named as unknown options, not "schema is false"', async (t) => {
  const app = makeApp(t)
  await app.register(trustedHostPlugin, { allowedHosts: ['a.example'] })
  const err = await caught(() =>
    app.get('/', { config: { security: { trustedHost: { allowedHosts: ['a.example'], constructor: 1, toString: 2 } as never } } }, async () => 1)
  )
  t.same(err.problems, [
    `config.security.trustedHost.constructor: ${RESERVED}`,
    'config.security.trustedHost.toString: is not a known option',
  ])
})

t.test('prototype keys are refused even where any key is allowed', async (t) => {
  const Open = Type.Object({ open: Type.Object({}, { additionalProperties: true }) })
  const err = await caught(() => checkOptions(Open, JSON.parse('{"open":{"prototype":1,"fine":2}}'), 'p'))
  t.same(err.problems, [`p.open.prototype: ${RESERVED}`])
})

t.test('non-plain objects are named: Map, class instances, Object.create', async (t) => {
  class Store {}
  t.same([new Map(), new Store(), Object.create({ https: true }), Object.create(null)].map(kindOf), [
    'Map',
    'Store',
    'object with a prototype',
    'object',
  ])
  const map = await caught(async () => {
    const app = makeApp(t)
    await app.register(trustedHostPlugin, new Map() as never)
    await app.ready()
  })
  t.same(map.problems, ['trustedHost: must be a plain object (got Map)'])
  const inherited = await caught(async () => {
    const app = makeApp(t)
    await app.register(trustedHostPlugin, { allowedHosts: ['a.example'], redirect: Object.create({ https: true }) })
    await app.ready()
  })
  t.same(inherited.problems, ['trustedHost.redirect: must be a plain object (got object with a prototype)'])
  const app = makeApp(t)
  await app.register(trustedHostPlugin, { allowedHosts: ['a.example'] })
  const route = await caught(() =>
    app.get('/', { config: { security: { trustedHost: Object.create({ allowedHosts: ['*'] }) } } }, async () => 1)
  )
  t.same(route.problems, ['config.security.trustedHost: must be false or an object (got object with a prototype)'])
  const union = await caught(() =>
    checkOptions(Type.Object({ u: Type.Union([Type.Literal(false), Type.Object({ a: Type.String() })]) }), { u: new Map() }, 'p')
  )
  t.same(union.problems, ['p.u: must be a plain object (got Map)'])
})

t.test('copies keep an own __proto__ as data and never read a prototype', async (t) => {
  const input = JSON.parse('{"a":{"__proto__":{"x":1}}}')
  const copy = copyPlain(input)
  t.equal(Object.getPrototypeOf(copy.a), Object.prototype)
  t.ok(Object.hasOwn(copy.a, '__proto__'))
  t.equal(copy.a.x, undefined)
  const merged = mergeOver({ a: 1 }, JSON.parse('{"__proto__":{"b":2}}')) as Record<string, unknown>
  t.equal(Object.getPrototypeOf(merged), Object.prototype)
  t.same(Object.keys(merged), ['a', '__proto__'])
  t.equal(merged.b, undefined)
  const stripped = withoutRegisterKeys(JSON.parse('{"__proto__":{"c":3},"prefix":"/x"}')) as Record<string, unknown>
  t.same(Object.keys(stripped), ['__proto__'])
  t.equal(stripped.c, undefined)
})

t.test('explainRouteConfig always explains a failed check, even when no field is to blame', async (t) => {
  const schema = Type.Union([Type.Literal(false), Type.Object({ a: Type.String() })])
  const problems: string[] = []
  // A config the walk finds nothing wrong with stands for a compiled check and a walk that disagree.
  explainRouteConfig(schema, { a: 'x' }, 'config.security.x', problems)
  t.same(problems, ['config.security.x: does not match the route config schema'])
})

// Seeded fuzz: any own reserved key, at the top of a plugin's route config or
// inside one of its nested objects, with any value, makes app.get() throw.
const PLUGINS = {
  trustedHost: { register: trustedHostPlugin, options: { allowedHosts: ['a.example'] }, base: { allowedHosts: ['b.example'] } },
  cors: { register: corsPlugin, options: { origins: ['https://a.example'] }, base: { origins: ['https://b.example'], credentials: true } },
  rateLimit: { register: rateLimitPlugin, options: { limit: 10 }, base: { limit: 5, window: '1m' } },
  headers: {
    register: headersPlugin,
    options: {},
    base: { frameOptions: 'SAMEORIGIN', contentSecurityPolicy: { directives: { imgSrc: ["'self'"] } }, hsts: { maxAge: 60 } },
  },
} as const

type PluginName = keyof typeof PLUGINS

/** Every object inside `value`, the value itself first: the places a key can be injected. */
function objectsIn (value: unknown): Record<string, unknown>[] {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return []
  return [value as Record<string, unknown>, ...Object.values(value).flatMap(objectsIn)]
}

/** JSON text of `base` with `"key": value` added to its `at`-th object, at the front or the back. */
function injected (base: unknown, at: number, key: string, value: unknown, front: boolean): string {
  const copy = JSON.parse(JSON.stringify(base))
  const targets = objectsIn(copy)
  const target = targets[at % targets.length]
  const marker = `rampart-marker-${front ? 'a' : 'z'}`
  const entries = Object.entries(target)
  for (const k of Object.keys(target)) delete target[k]
  if (front) target[marker] = null
  for (const [k, v] of entries) target[k] = v
  if (!front) target[marker] = null
  // JSON.stringify cannot write an own "__proto__"; swap it in as text.
  return JSON.stringify(copy).replace(`"${marker}":null`, `${JSON.stringify(key)}:${JSON.stringify(value)}`)
}

t.test('fuzz: reserved keys anywhere in route config always throw, for all four plugins', async (t) => {
  const apps = {} as Record<PluginName, ReturnType<typeof makeApp>>
  for (const name of Object.keys(PLUGINS) as PluginName[]) {
    const app = makeApp(t)
    await app.register(PLUGINS[name].register as never, PLUGINS[name].options as never)
    apps[name] = app
  }
  let route = 0
  await fc.assert(
    fc.asyncProperty(
      fc.constantFrom(...(Object.keys(PLUGINS) as PluginName[])),
      fc.nat(10),
      fc.constantFrom('__proto__', 'constructor', 'prototype'),
      fc.oneof(
        fc.constant({}),
        fc.constant({ allowedHosts: ['*'] }),
        fc.constant({ origins: ['*'] }),
        fc.constant(false),
        fc.constant(null),
        fc.integer(),
        fc.string({ maxLength: 5 }),
        fc.constant(['*'])
      ),
      fc.boolean(),
      async (name, at, key, value, front) => {
        const text = `{${JSON.stringify(name)}:${injected(PLUGINS[name].base, at, key, value, front)}}`
        const security = JSON.parse(text)
        const err = await caught(() => apps[name].get(`/r${route++}`, { config: { security } }, async () => 1))
        t.equal(err.code, 'FST_RAMPART_INVALID_ROUTE_CONFIG', text)
        t.ok((err.problems ?? []).some((p) => p.endsWith(`.${key}: ${RESERVED}`)), text)
      }
    ),
    { seed: 10_2026, numRuns: 300 }
  )
})
