const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/** Pattern for duration strings: an integer and a unit (`500ms`, `30s`, `15m`, `1h`, `1d`). */
export const DURATION_PATTERN = '^[1-9][0-9]{0,8}(ms|s|m|h|d)$'

/** Milliseconds from a number of ms or a duration string already checked against DURATION_PATTERN. */
export function toMs (value: number | string): number {
  if (typeof value === 'number') return value
  const match = /^(\d+)(ms|s|m|h|d)$/.exec(value) as RegExpExecArray
  return Number(match[1]) * UNITS[match[2]]
}
