/** Rejects when `promise` has not settled within `ms`: no request waits on a store longer than that. */
export function withTimeout<T> (promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(timeoutMessage(ms))), ms)
  })
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer))
}

function timeoutMessage (ms: number): string {
  return `store did not answer within ${ms} ms`
}

/** A wait started by `Deadlines.start`: `expire` is dropped once it is settled or expired. */
export interface Deadline {
  readonly at: number
  expire: ((err: Error) => void) | undefined
}

// Past this many settled entries at the front, the queue is compacted.
const COMPACT_AT = 1024

/**
 * Many waits of one length, bounded by one timer (withTimeout arms a timer
 * and races two promises per call). All waits last `ms`, so deadlines come
 * in the order they were started: a FIFO, and the one timer only needs the
 * oldest open one. Settling a wait is a flag; the timer is re-armed when it
 * fires, not on every settle. It holds the process open only while some
 * wait is open, as a per-call timer would.
 */
export class Deadlines {
  readonly #ms: number
  readonly #queue: Deadline[] = []
  #head = 0
  #timer: NodeJS.Timeout | undefined

  constructor (ms: number) {
    this.#ms = ms
  }

  /** Calls `expire` with the timeout error unless `settle` is called within `ms`. */
  start (expire: (err: Error) => void): Deadline {
    const deadline: Deadline = { at: performance.now() + this.#ms, expire }
    this.#queue.push(deadline)
    if (this.#timer === undefined) {
      this.#timer = setTimeout(this.#sweep, this.#ms)
    } else if (this.#queue.length - this.#head === 1) {
      this.#timer.ref()
    }
    return deadline
  }

  settle (deadline: Deadline): void {
    deadline.expire = undefined
    this.#drop()
  }

  /** `value`, or a rejection after `ms`: withTimeout with one shared timer. */
  bound<T> (value: PromiseLike<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const deadline = this.start(reject)
      Promise.resolve(value).then(
        (answer) => {
          this.settle(deadline)
          resolve(answer)
        },
        (err: unknown) => {
          this.settle(deadline)
          reject(err)
        }
      )
    })
  }

  #drop (): void {
    const queue = this.#queue
    while (this.#head < queue.length && queue[this.#head].expire === undefined) this.#head++
    if (this.#head === queue.length) {
      queue.length = 0
      this.#head = 0
      // Armed, but no longer a reason for the process to stay up.
      this.#timer?.unref()
    } else if (this.#head >= COMPACT_AT) {
      queue.splice(0, this.#head)
      this.#head = 0
    }
  }

  readonly #sweep = (): void => {
    this.#timer = undefined
    const now = performance.now()
    const queue = this.#queue
    // Timers may fire a fraction of a millisecond early by this clock.
    while (this.#head < queue.length && queue[this.#head].at - now < 1) {
      const deadline = queue[this.#head]
      // The head is always open: #drop runs after every change.
      const expire = deadline.expire as (err: Error) => void
      deadline.expire = undefined
      this.#drop()
      expire(new Error(timeoutMessage(this.#ms)))
    }
    if (this.#head < queue.length && this.#timer === undefined) {
      this.#timer = setTimeout(this.#sweep, Math.ceil(queue[this.#head].at - now))
    }
  }
}
