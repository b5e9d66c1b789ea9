import t from 'tap'
import Type from 'typebox'
import { copyPlain, isPlainObject, mergeOver } from '../lib/copy.js'
import { checkOptions, collectOptions, kindOf, withoutDefaults, withoutRegisterKeys } from '../lib/options.js'
import { caught } from './helpers.js'

t.test('isPlainObject tells literals from instances', async (t) => {
  t.ok(isPlainObject({}))
  t.ok(isPlainObject(Object.create(null)))
  t.notOk(isPlainObject(new Map()))
  t.notOk(isPlainObject(null))
  t.notOk(isPlainObject([]))
})

t.test('copyPlain copies data and keeps functions and instances by reference', async (t) => {
  const fn = () => 1
  const map = new Map()
  const input = { a: [{ b: 1 }], fn, map }
  const out = copyPlain(input)
  t.same(out, input)
  t.not(out.a, input.a)
  t.not(out.a[0], input.a[0])
  t.equal(out.fn, fn)
  t.equal(out.map, map)
})

t.test('mergeOver merges objects, replaces everything else, touches nothing', async (t) => {
  const base = { a: { b: 1, c: [1] }, d: true }
  const over = { a: { c: [2] }, d: false }
  t.same(mergeOver(base, over), { a: { b: 1, c: [2] }, d: false })
  t.same(mergeOver(base, undefined), base)
  t.same(mergeOver(false, { a: 1 }), { a: 1 })
  t.same(base, { a: { b: 1, c: [1] }, d: true })
})

t.test('kindOf names types without values', async (t) => {
  t.same([null, [], /x/, 'a', 1, {}, () => 1, undefined].map(kindOf), [
    'null',
    'array',
    'RegExp',
    'string',
    'number',
    'object',
    'function',
    'undefined',
  ])
})

t.test('withoutRegisterKeys drops prefix, logLevel, logSerializers', async (t) => {
  t.same(withoutRegisterKeys({ prefix: '/a', logLevel: 'x', logSerializers: {}, keep: 1 }), { keep: 1 })
  t.equal(withoutRegisterKeys('x'), 'x')
})

const Schema = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    nested: Type.Optional(
      Type.Union([Type.Literal(false), Type.Object({ n: Type.Optional(Type.Integer({ default: 3 })) })], {
        default: {},
      })
    ),
    tiers: Type.Optional(
      Type.Record(Type.String({ pattern: '^[a-z]+$' }), Type.Object({ limit: Type.Integer() }))
    ),
    either: Type.Optional(Type.Union([Type.Object({ a: Type.String() }), Type.Object({ b: Type.String() })])),
    list: Type.Optional(Type.Array(Type.Integer(), { maxItems: 2 })),
    open: Type.Optional(Type.Object({}, { additionalProperties: true })),
  },
  { additionalProperties: false }
)

t.test('checkOptions fills defaults inside unions and returns a copy', async (t) => {
  const input = { name: 'x' }
  const out = checkOptions<Record<string, unknown>>(Schema, input, 'p')
  t.same(out, { name: 'x', nested: { n: 3 } })
  t.same(input, { name: 'x' })
})

t.test('checkOptions lists every problem with its path', async (t) => {
  const err = await caught(() =>
    checkOptions(
      Schema,
      {
        nested: { n: 1.5 },
        tiers: { free: { limit: 'x' }, Pro: { limit: 1 } },
        either: { c: 1 },
        list: [1, 'two', 3],
        open: { anything: true },
        extra: 1,
      },
      'p'
    )
  )
  t.equal(err.code, 'FST_RAMPART_INVALID_OPTIONS')
  t.same(err.problems, [
    'p.name: is required',
    'p.nested.n: must be integer (got number)',
    'p.tiers.free.limit: must be integer (got string)',
    'p.tiers.Pro: is not a known option',
    'p.either: must be an object or an object (got object)',
    'p.list[1]: must be integer (got string)',
    'p.list: must not have more than 2 items',
    'p.extra: is not a known option',
  ])
})

t.test('collectOptions treats undefined as an empty object', async (t) => {
  const problems: string[] = []
  collectOptions(Schema, undefined, 'p', problems)
  t.same(problems, ['p.name: is required'])
})

t.test('withoutDefaults strips defaults at every depth', async (t) => {
  const stripped = withoutDefaults(Schema) as unknown as { properties: { nested: Record<string, unknown> } }
  t.notOk('default' in stripped.properties.nested)
  t.notOk(JSON.stringify(stripped).includes('"default"'))
})
