import { invalidOptions } from '../../lib/errors.js'

export interface HostsFromEnvOptions {
  /** Environment variable holding a comma-separated list. Default `ALLOWED_HOSTS`. */
  variable?: string
  /** Used only when NODE_ENV is not `production` and the variable is unset. Default `['*']`. */
  development?: string[]
  /** Where to read from. Default `process.env`. */
  env?: Record<string, string | undefined>
}

/**
 * "A list in production, anything in development", as the FastAPI guide
 * sets up TrustedHostMiddleware: in production the variable must be set,
 * and `*` is refused there, so a missing setting can never mean "trust all".
 */
export function hostsFromEnv (options: HostsFromEnvOptions = {}): string[] {
  const variable = options.variable ?? 'ALLOWED_HOSTS'
  const env = options.env ?? process.env
  const production = env.NODE_ENV === 'production'
  const hosts = (env[variable] ?? '')
    .split(',')
    .map((h) => h.trim())
    .filter((h) => h !== '')
  if (hosts.length === 0) {
    if (production) {
      throw invalidOptions([`${variable}: must list the allowed hosts (comma-separated) when NODE_ENV=production`])
    }
    return [...(options.development ?? ['*'])]
  }
  if (production && hosts.includes('*')) {
    throw invalidOptions([`${variable}: "*" trusts every Host and is refused when NODE_ENV=production`])
  }
  return hosts
}
