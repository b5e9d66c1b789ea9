/**
 * Lets one log line through per interval and counts the rest, so a flood of
 * bad requests (or a store outage) cannot flood the logs too.
 */
export interface LogLimiter {
  /** Returns the number of events suppressed since the last line, or -1 to stay quiet. */
  take(): number
}

export function createLogLimiter (intervalMs: number, now: () => number = Date.now): LogLimiter {
  let next = Number.NEGATIVE_INFINITY
  let suppressed = 0
  return {
    take () {
      const t = now()
      if (t < next) {
        suppressed++
        return -1
      }
      next = t + intervalMs
      const count = suppressed
      suppressed = 0
      return count
    },
  }
}
