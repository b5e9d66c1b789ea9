import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'

/**
 * One plugin's onRequest work. Returns true to go on, false once it has
 * answered (the reply is sent), or a promise of either when it must wait (a
 * Redis store, an async origin matcher). A step never throws for client
 * input; a rejected promise ends the request through Fastify's error path.
 */
export type Step = (request: FastifyRequest, reply: FastifyReply) => boolean | Promise<boolean>

type Done = (err?: Error) => void
type Hook = (request: FastifyRequest, reply: FastifyReply, done: Done) => void

// Each onRequest hook costs about a microsecond in Fastify's hook runner
// (issue 17). securityPlugin runs every plugin's step from one hook instead;
// a plugin registered alone gets a hook of its own.
const collectors = new WeakMap<FastifyInstance, Step[]>()

/** Runs `steps[from...]` in order; the synchronous path allocates nothing. */
function run (steps: Step[], from: number, request: FastifyRequest, reply: FastifyReply, done: Done): void {
  for (let i = from; i < steps.length; i++) {
    const result = steps[i](request, reply)
    if (result === true) continue
    if (result === false) return
    result.then(
      (go) => { if (go) run(steps, i + 1, request, reply, done) },
      (err: Error) => done(err)
    )
    return
  }
  done()
}

function named (name: string, steps: Step[]): Hook {
  // The hook carries the plugin's name, as Fastify's docs and stack traces expect.
  return {
    [name] (request: FastifyRequest, reply: FastifyReply, done: Done) {
      run(steps, 0, request, reply, done)
    },
  }[name]
}

/**
 * securityPlugin: from here until `endFusing`, the steps of the plugins
 * registered on `fastify` join one onRequest hook, in registration order.
 */
export function startFusing (fastify: FastifyInstance, name = 'rampartSecurity'): void {
  const steps: Step[] = []
  collectors.set(fastify, steps)
  fastify.addHook('onRequest', named(name, steps))
}

/**
 * A plugin registered alone whose registration adds more than one step
 * (the route guard of lib/route-config.ts and its own) runs them from one
 * hook named `name`; under securityPlugin they join its hook instead.
 */
export function fusedPlugin<O> (name: string, plugin: (fastify: FastifyInstance, options: O) => Promise<void>): (fastify: FastifyInstance, options: O) => Promise<void> {
  return async function (fastify, options) {
    if (collectors.has(fastify)) return plugin(fastify, options)
    startFusing(fastify, name)
    try {
      await plugin(fastify, options)
    } finally {
      endFusing(fastify)
    }
  }
}

/** Later registrations (a plugin the app adds itself) get their own hooks again. */
export function endFusing (fastify: FastifyInstance): void {
  collectors.delete(fastify)
}

/**
 * `addStep`'s place for a step that only writes headers and never answers:
 * first in securityPlugin's hook, where the reply has no header yet and the
 * whole list is written in one go (lib/reply-headers.ts); every answer a
 * later step gives then carries it too.
 */
export const FIRST = 'first'

/** A plugin's onRequest step: into securityPlugin's hook while it registers (in order, or `FIRST`), or as its own hook `name`. */
export function addStep (fastify: FastifyInstance, name: string, step: Step, place?: typeof FIRST): void {
  const steps = collectors.get(fastify)
  if (steps === undefined) fastify.addHook('onRequest', named(name, [step]))
  else if (place === FIRST) steps.unshift(step)
  else steps.push(step)
}
