// oidc-provider ships no types and @types/oidc-provider is not a
// dependency; this is the little of its API the tests use.
declare module 'oidc-provider' {
  import type { IncomingMessage, ServerResponse } from 'node:http'

  export interface Account {
    accountId: string
    claims(): Promise<Record<string, unknown>>
  }

  export interface Configuration {
    clients?: Record<string, unknown>[]
    pkce?: { required?: (ctx: unknown, client: unknown) => boolean }
    jwks?: { keys: Record<string, unknown>[] }
    cookies?: { keys?: string[] }
    claims?: Record<string, string[]>
    features?: Record<string, { enabled: boolean }>
    findAccount?: (ctx: unknown, sub: string) => Promise<Account | undefined>
    [key: string]: unknown
  }

  export default class Provider {
    constructor (issuer: string, configuration?: Configuration)
    callback (): (req: IncomingMessage, res: ServerResponse) => void
    on (event: string, listener: (...args: unknown[]) => void): this
  }
}
