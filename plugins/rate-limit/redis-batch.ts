// Every GCRA check made in one event-loop iteration goes to Redis as one
// Lua call over all its keys (per hash slot on Redis Cluster), with one
// timer bounding the whole call: a request costs its share of one round
// trip instead of a script call, a TIME and a timer of its own.

import type { Deadlines } from '../../lib/with-timeout.js'
import { decide, type GcraDecision, type GcraParams } from './gcra.js'

// The GCRA decision (gcra.ts `decide`) for KEYS[i] with ARGV[3i-2..3i] =
// interval, capacity, cost, in order, atomically across every instance
// sharing the Redis, on Redis's own clock (one TIME for the call, so
// instances with skewed clocks agree). The same key twice is charged twice,
// the second check seeing the first: keys are read once and written once,
// at the end. Returns { allowed (1|0), debt before (µs, an integer) } per
// check. A reward that pays off the whole debt deletes the key.
//
// Expiry: a key lives until its TAT rounded up to the whole second, so the
// expiry only changes when the TAT moves to another second; otherwise the
// write keeps the TTL it has (SET … KEEPTTL, measured about half the cost
// of SET … PX). Invariant: the key expires 1 ms after its stored TAT rounded
// up to the second, never before it (the 1 ms covers Redis taking the
// expiry's base time before TIME). Before Redis 6.0 (no KEEPTTL), every
// write sets PX.
export const GCRA_BATCH_LUA = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local out = {}
local tats = {}
local stored = {}
local order = {}
for i = 1, #KEYS do
  local key = KEYS[i]
  local tat = tats[key]
  if tat == nil then
    tat = tonumber(redis.call('GET', key)) or false
    stored[key] = tat
    order[#order + 1] = key
  end
  local before = 0
  if tat and tat > now then before = tat - now end
  local debt = before + tonumber(ARGV[3 * i - 2]) * tonumber(ARGV[3 * i])
  if debt <= tonumber(ARGV[3 * i - 1]) + 0.000001 then
    if debt <= 0 then tats[key] = false else tats[key] = now + debt end
    out[2 * i - 1] = 1
  else
    tats[key] = tat
    out[2 * i - 1] = 0
  end
  out[2 * i] = math.floor(before * 1000 + 0.5)
end
for j = 1, #order do
  local key = order[j]
  local tat = tats[key]
  local old = stored[key]
  if tat ~= old then
    if not tat then
      redis.call('DEL', key)
    else
      local value = string.format('%.3f', tat)
      local expires = math.ceil(tat / 1000) * 1000
      local kept = false
      if old and math.ceil(old / 1000) * 1000 == expires then
        kept = redis.pcall('SET', key, value, 'KEEPTTL')
        if type(kept) == 'table' and kept.err then kept = false end
      end
      if not kept then
        redis.call('SET', key, value, 'PX', expires - math.floor(now) + 1)
      end
    end
  end
end
return out
`

/** Sends one batch: the keys, then interval, capacity, cost per key; answers the script's flat reply. */
export type SendBatch = (keys: string[], args: string[]) => Promise<number[]>

interface Check {
  key: string
  interval: string
  capacity: string
  cost: string
  params: GcraParams
  units: number
  resolve: (decision: GcraDecision) => void
  reject: (err: unknown) => void
}

export interface GcraBatcherOptions {
  send: SendBatch
  /** The hash slot of a key, on Redis Cluster; a single Redis takes every key in one call. */
  slotOf: ((key: string) => number) | undefined
  deadlines: Deadlines
}

export class GcraBatcher {
  readonly #send: SendBatch
  readonly #slotOf: ((key: string) => number) | undefined
  readonly #deadlines: Deadlines
  #pending: Check[] = []

  constructor (options: GcraBatcherOptions) {
    this.#send = options.send
    this.#slotOf = options.slotOf
    this.#deadlines = options.deadlines
  }

  /** One check of `key` (already prefixed and tagged), decided with the others of this iteration. */
  check (key: string, interval: string, capacity: string, params: GcraParams, cost: number): Promise<GcraDecision> {
    return new Promise<GcraDecision>((resolve, reject) => {
      // setImmediate, not a microtask: checks from every connection read
      // in this poll phase share the call (a microtask flushes after each
      // socket's callback, one check at a time).
      if (this.#pending.length === 0) setImmediate(this.#flush)
      this.#pending.push({ key, interval, capacity, cost: cost === 1 ? '1' : String(cost), params, units: cost, resolve, reject })
    })
  }

  readonly #flush = (): void => {
    const checks = this.#pending
    this.#pending = []
    const groups = this.#slotOf === undefined ? [checks] : groupBySlot(checks, this.#slotOf)
    let open = groups.length
    // One bound for the whole flush; rejecting a check already answered does nothing.
    const deadline = this.#deadlines.start((err) => {
      for (const check of checks) check.reject(err)
    })
    const done = () => {
      if (--open === 0) this.#deadlines.settle(deadline)
    }
    for (const group of groups) {
      const keys: string[] = new Array(group.length)
      const args: string[] = new Array(group.length * 3)
      for (let i = 0; i < group.length; i++) {
        const check = group[i]
        keys[i] = check.key
        args[3 * i] = check.interval
        args[3 * i + 1] = check.capacity
        args[3 * i + 2] = check.cost
      }
      let reply: Promise<number[]>
      try {
        reply = this.#send(keys, args)
      } catch (err) {
        reply = Promise.reject(err)
      }
      reply.then(
        (out) => {
          for (let i = 0; i < group.length; i++) {
            const check = group[i]
            const decision = decide(out[2 * i + 1] / 1000, check.params, check.units)
            // Redis decided; a float rounding difference must not flip its answer.
            decision.allowed = out[2 * i] === 1
            check.resolve(decision)
          }
          done()
        },
        (err: unknown) => {
          for (const check of group) check.reject(err)
          done()
        }
      )
    }
  }
}

/**
 * Splits checks by hash slot, in order within each slot (a multi-key script
 * on Redis Cluster must stay in one slot). The same key is always in the
 * same slot, so its checks keep their order.
 */
export function groupBySlot<T extends { key: string }> (checks: T[], slotOf: (key: string) => number): T[][] {
  const groups = new Map<number, T[]>()
  for (const check of checks) {
    const slot = slotOf(check.key)
    const group = groups.get(slot)
    if (group === undefined) groups.set(slot, [check])
    else group.push(check)
  }
  return [...groups.values()]
}

// CRC16-XMODEM, the hash of Redis Cluster (cluster-key-slot, which ioredis
// uses, has no types and is not a dependency of ours).
const CRC16 = new Uint16Array(256)
for (let i = 0; i < 256; i++) {
  let crc = i << 8
  for (let bit = 0; bit < 8; bit++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff
  CRC16[i] = crc
}

/** The Redis Cluster hash slot of a key: of its first non-empty `{…}` tag if it has one, else of the whole key (UTF-8 bytes). */
export function hashSlot (key: string): number {
  const bytes = Buffer.from(key)
  let start = 0
  let end = bytes.length
  const open = bytes.indexOf(0x7b)
  if (open !== -1) {
    const close = bytes.indexOf(0x7d, open + 1)
    if (close > open + 1) {
      start = open + 1
      end = close
    }
  }
  let crc = 0
  for (let i = start; i < end; i++) crc = ((crc << 8) & 0xffff) ^ CRC16[((crc >> 8) ^ bytes[i]) & 0xff]
  return crc & 16383
}
