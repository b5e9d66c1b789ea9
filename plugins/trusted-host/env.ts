import { invalidOptions } from '../../lib/errors.js'

export interface HostsFromEnvOptions {
  /** Environment variable holding a comma-separated list. Default `ALLOWED_HOSTS`. */
  variable?: string
  /** Used only when NODE_ENV is `development` or `test` and the variable is unset. Default `['*']`. */
  development?: string[]
  /** Where to read from. Default `process.env`. */
  env?: Record<string, string | undefined>
}

/** The only NODE_ENV values that mean "a developer's machine or a test run". */
const DEVELOPMENT = new Set(['development', 'test'])

/**
 * "A list in production, anything in development", as the FastAPI guide
 * sets up TrustedHostMiddleware. Only an explicit NODE_ENV of `development`
 * or `test` gets the fallback: an unset, misspelt or custom value (`prod`,
 * `staging`) is treated as production, so a missing setting can never mean
 * "trust all".
 */
export function hostsFromEnv (options: HostsFromEnvOptions = {}): string[] {
  const variable = options.variable ?? 'ALLOWED_HOSTS'
  const env = options.env ?? process.env
  const development = env.NODE_ENV !== undefined && DEVELOPMENT.has(env.NODE_ENV)
  const where = env.NODE_ENV === undefined ? 'NODE_ENV is unset' : `NODE_ENV=${env.NODE_ENV}`
  const hosts = (env[variable] ?? '')
    .split(',')
    .map((h) => h.trim())
    .filter((h) => h !== '')
  if (hosts.length === 0) {
    if (!development) {
      throw invalidOptions([
        `${variable}: must list the allowed hosts (comma-separated) when ${where} (only NODE_ENV=development or test falls back to ${JSON.stringify(options.development ?? ['*'])})`,
      ])
    }
    return [...(options.development ?? ['*'])]
  }
  if (!development && hosts.includes('*')) {
    throw invalidOptions([`${variable}: "*" trusts every Host and is refused when ${where} (allowed only with NODE_ENV=development or test)`])
  }
  return hosts
}
