import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify'

/** A clock the test moves by hand. */
export function fakeClock (start = 1_700_000_000_000) {
  let now = start
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms
    },
  }
}

export function limitHeaders (res: LightMyRequestResponse): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(res.headers).filter(([k]) => k.startsWith('ratelimit') || k.startsWith('x-ratelimit') || k === 'retry-after')
  )
}

/** Fires `n` requests and returns their status codes. */
export async function hit (app: FastifyInstance, n: number, request: InjectOptions | string = '/'): Promise<number[]> {
  const codes: number[] = []
  for (let i = 0; i < n; i++) codes.push((await app.inject(request)).statusCode)
  return codes
}
