import type { FastifyReply, FastifyRequest } from 'fastify'
import Type, { type Static, type TArray, type TOptional, type TString, type TUnsafe } from 'typebox'
import { DURATION_PATTERN } from '../lib/duration.js'

// Options for headersPlugin. Every property is optional for the user; the
// defaults below are what a zero-config registration sends. The README's
// options table mirrors this file.

const SourceList = Type.Union([Type.Literal(false), Type.Array(Type.String())])

/** CSP directives, camelCase keys rendered to their wire names. `false` drops a default. */
export const CspDirectivesSchema = Type.Object(
  {
    defaultSrc: Type.Optional(SourceList),
    scriptSrc: Type.Optional(SourceList),
    scriptSrcElem: Type.Optional(SourceList),
    scriptSrcAttr: Type.Optional(SourceList),
    styleSrc: Type.Optional(SourceList),
    styleSrcElem: Type.Optional(SourceList),
    styleSrcAttr: Type.Optional(SourceList),
    imgSrc: Type.Optional(SourceList),
    fontSrc: Type.Optional(SourceList),
    connectSrc: Type.Optional(SourceList),
    mediaSrc: Type.Optional(SourceList),
    objectSrc: Type.Optional(SourceList),
    frameSrc: Type.Optional(SourceList),
    childSrc: Type.Optional(SourceList),
    workerSrc: Type.Optional(SourceList),
    manifestSrc: Type.Optional(SourceList),
    fencedFrameSrc: Type.Optional(SourceList),
    baseUri: Type.Optional(SourceList),
    formAction: Type.Optional(SourceList),
    frameAncestors: Type.Optional(SourceList),
    sandbox: Type.Optional(Type.Union([Type.Literal(false), Type.Array(Type.String())])),
    upgradeInsecureRequests: Type.Optional(Type.Boolean()),
    requireTrustedTypesFor: Type.Optional(
      Type.Union([Type.Literal(false), Type.Array(Type.Literal("'script'"))])
    ),
    trustedTypes: Type.Optional(Type.Union([Type.Literal(false), Type.Array(Type.String())])),
  },
  { additionalProperties: false }
)

/**
 * Per-request `frame-ancestors` sources (a tenant's own sites), or
 * `undefined` for the configured directive. Runs in onSend on the routes
 * whose options set it, so it must be synchronous: look the tenant up in an
 * earlier hook and read it from the request here.
 */
export type FrameAncestorsFor = (request: FastifyRequest, reply: FastifyReply) => readonly string[] | undefined
const FrameAncestorsForSchema: TUnsafe<FrameAncestorsFor> = Type.Unsafe<FrameAncestorsFor>(
  Type.Function([Type.Any(), Type.Any()], Type.Any())
)

const NonceTargets = Type.Union([
  Type.Boolean(),
  Type.Array(Type.Union([Type.Literal('scriptSrc'), Type.Literal('styleSrc')]), { minItems: 1 }),
])

export const CspSchema = Type.Object(
  {
    /** Directives for HTML responses, merged over the default document policy unless `useDefaults: false`. */
    directives: Type.Optional(CspDirectivesSchema),
    useDefaults: Type.Optional(Type.Boolean({ default: true })),
    /** Policy for non-HTML responses; default `default-src 'none'; frame-ancestors 'none'`. */
    apiDirectives: Type.Optional(CspDirectivesSchema),
    /** Per-request nonce added to script-src and/or style-src, read by handlers as `reply.cspNonce`. */
    nonce: Type.Optional(NonceTargets),
    /** `true`: send the document policy as Report-Only instead; an object: a second, report-only policy. */
    reportOnly: Type.Optional(
      Type.Union([
        Type.Boolean(),
        Type.Object(
          { directives: Type.Optional(CspDirectivesSchema), useDefaults: Type.Optional(Type.Boolean()) },
          { additionalProperties: false }
        ),
      ])
    ),
    /** Where browsers send violation reports: `Reporting-Endpoints` plus `report-to` and `report-uri`. */
    reportTo: Type.Optional(
      Type.Object(
        {
          group: Type.Optional(
            Type.String({
              default: 'csp-endpoint',
              pattern: '^[a-zA-Z][a-zA-Z0-9_-]{0,63}$',
              errorMessage: 'must be a token of letters, digits, "-" or "_"',
            })
          ),
          url: Type.String({ minLength: 1 }),
        },
        { additionalProperties: false }
      )
    ),
    /** Opt-in for `'unsafe-inline'` / `'unsafe-eval'` and any-host sources (`*`, `https:`, `data:`, ...) in script policies. */
    allowUnsafe: Type.Optional(Type.Boolean({ default: false })),
    /** Picks `frame-ancestors` per request on the routes that set it (multi-tenant embedding). */
    frameAncestorsFor: Type.Optional(FrameAncestorsForSchema),
  },
  { additionalProperties: false }
)

export const HstsSchema = Type.Object(
  {
    maxAge: Type.Optional(Type.Integer({ minimum: 0, default: 31536000 })),
    includeSubDomains: Type.Optional(Type.Boolean({ default: true })),
    preload: Type.Optional(Type.Boolean({ default: false })),
    /** Send on plain-HTTP requests too, for TLS terminated by a proxy that does not forward the scheme. */
    force: Type.Optional(Type.Boolean({ default: false })),
  },
  { additionalProperties: false }
)

// https://w3c.github.io/webappsec-referrer-policy/#referrer-policies
export const REFERRER_POLICIES = [
  'no-referrer',
  'no-referrer-when-downgrade',
  'same-origin',
  'origin',
  'strict-origin',
  'origin-when-cross-origin',
  'strict-origin-when-cross-origin',
  'unsafe-url',
] as const
const ReferrerPolicy = Type.Union([
  Type.Literal('no-referrer'),
  Type.Literal('no-referrer-when-downgrade'),
  Type.Literal('same-origin'),
  Type.Literal('origin'),
  Type.Literal('strict-origin'),
  Type.Literal('origin-when-cross-origin'),
  Type.Literal('strict-origin-when-cross-origin'),
  Type.Literal('unsafe-url'),
])

// Features browsers recognise in Permissions-Policy (Chromium's list minus the
// experimental ones), camelCase keys for the wire names.
export const PERMISSION_FEATURES = [
  'accelerometer',
  'ambientLightSensor',
  'attributionReporting',
  'autoplay',
  'bluetooth',
  'browsingTopics',
  'camera',
  'clipboardRead',
  'clipboardWrite',
  'computePressure',
  'crossOriginIsolated',
  'displayCapture',
  'encryptedMedia',
  'fullscreen',
  'gamepad',
  'geolocation',
  'gyroscope',
  'hid',
  'identityCredentialsGet',
  'idleDetection',
  'localFonts',
  'magnetometer',
  'microphone',
  'midi',
  'otpCredentials',
  'payment',
  'pictureInPicture',
  'publickeyCredentialsCreate',
  'publickeyCredentialsGet',
  'screenWakeLock',
  'serial',
  'storageAccess',
  'usb',
  'webShare',
  'windowManagement',
  'xrSpatialTracking',
] as const

type FeatureAllowlists = { [F in (typeof PERMISSION_FEATURES)[number]]: TOptional<TArray<TString>> }

function featureAllowlists (): FeatureAllowlists {
  const out = {} as Record<string, TOptional<TArray<TString>>>
  for (const feature of PERMISSION_FEATURES) out[feature] = Type.Optional(Type.Array(Type.String()))
  return out as FeatureAllowlists
}

/** feature → allowlist: `[]` denies (`feature=()`), `['self']`, `['*']`, or origins. */
export const PermissionsPolicySchema = Type.Object(featureAllowlists(), { additionalProperties: false })

export const HeadersOptionsSchema = Type.Object(
  {
    /** `auto`: the response's Content-Type picks the API or HTML set; `api` / `html` force one. */
    profile: Type.Optional(
      Type.Union([Type.Literal('auto'), Type.Literal('api'), Type.Literal('html')], { default: 'auto' })
    ),
    /** Sent only when the route or handler did not set Cache-Control itself. */
    cacheControl: Type.Optional(
      Type.Union(
        [
          Type.Literal(false),
          Type.String({
            pattern: '^[\\x21-\\x7E][\\x20-\\x7E]*$',
            errorMessage: 'must be a printable ASCII header value',
          }),
        ],
        { default: 'no-store' }
      )
    ),
    contentSecurityPolicy: Type.Optional(Type.Union([Type.Literal(false), CspSchema], { default: {} })),
    hsts: Type.Optional(Type.Union([Type.Literal(false), HstsSchema], { default: {} })),
    contentTypeOptions: Type.Optional(Type.Boolean({ default: true })),
    frameOptions: Type.Optional(
      Type.Union([Type.Literal(false), Type.Literal('DENY'), Type.Literal('SAMEORIGIN')], {
        default: 'DENY',
      })
    ),
    /** One policy or a fallback list; default `no-referrer` on API responses, `strict-origin-when-cross-origin` on HTML. */
    referrerPolicy: Type.Optional(
      Type.Union([Type.Literal(false), ReferrerPolicy, Type.Array(ReferrerPolicy, { minItems: 1 })])
    ),
    permissionsPolicy: Type.Optional(
      Type.Union([Type.Literal(false), PermissionsPolicySchema], { default: {} })
    ),
    crossOriginOpenerPolicy: Type.Optional(
      Type.Union(
        [
          Type.Literal(false),
          Type.Literal('same-origin'),
          Type.Literal('same-origin-allow-popups'),
          Type.Literal('noopener-allow-popups'),
          Type.Literal('unsafe-none'),
        ],
        { default: 'same-origin' }
      )
    ),
    crossOriginResourcePolicy: Type.Optional(
      Type.Union(
        [
          Type.Literal(false),
          Type.Literal('same-origin'),
          Type.Literal('same-site'),
          Type.Literal('cross-origin'),
        ],
        { default: 'same-origin' }
      )
    ),
    crossOriginEmbedderPolicy: Type.Optional(
      Type.Union(
        [
          Type.Literal(false),
          Type.Literal('require-corp'),
          Type.Literal('credentialless'),
          Type.Literal('unsafe-none'),
        ],
        { default: false }
      )
    ),
    permittedCrossDomainPolicies: Type.Optional(
      Type.Union(
        [
          Type.Literal(false),
          Type.Literal('none'),
          Type.Literal('master-only'),
          Type.Literal('by-content-type'),
          Type.Literal('all'),
        ],
        { default: 'none' }
      )
    ),
    dnsPrefetchControl: Type.Optional(
      Type.Union([Type.Literal(false), Type.Literal('off'), Type.Literal('on')], { default: 'off' })
    ),
    /** `true` sends `X-XSS-Protection: 0`, the only safe value (the auditor it controlled caused leaks). */
    xssProtection: Type.Optional(Type.Union([Type.Boolean(), Type.Literal('0')], { default: false })),
    /** Response headers removed because they advertise the stack. */
    removeHeaders: Type.Optional(
      Type.Array(
        Type.String({
          pattern: "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$",
          errorMessage: 'must be a header name',
        }),
        { default: ['x-powered-by', 'server'] }
      )
    ),
  },
  { additionalProperties: false }
)

export type HeadersOptions = Static<typeof HeadersOptionsSchema>
export type CspOptions = Static<typeof CspSchema>
export type CspDirectives = Static<typeof CspDirectivesSchema>
export type HstsOptions = Static<typeof HstsSchema>
export type PermissionsPolicy = Static<typeof PermissionsPolicySchema>
export type ReferrerPolicyValue = (typeof REFERRER_POLICIES)[number]

/** `config.security.headers`: `false` turns the plugin off for the route; an object is merged over the plugin's options. */
export type HeadersRouteConfig = false | HeadersOptions

const Duration = Type.Union([
  Type.Integer({ minimum: 1, maximum: 86_400_000 }),
  Type.String({ pattern: DURATION_PATTERN, errorMessage: "must be a duration such as '10s' or '1m'" }),
])

/** Options for cspReportPlugin / cspReportRoute: a bounded collector for CSP violation reports. */
export const CspReportOptionsSchema = Type.Object(
  {
    /** The route's path, as given to `reportTo.url`. */
    path: Type.Optional(Type.String({ pattern: '^/[^\\s?#]*$', errorMessage: 'must be a path starting with "/"', default: '/csp-reports' })),
    /** Largest report body accepted, in bytes; larger ones get 413. */
    bodyLimit: Type.Optional(Type.Integer({ minimum: 256, maximum: 1_048_576, default: 65_536 })),
    /** At most one report is logged per interval; the line counts the ones left out. */
    logInterval: Type.Optional(Type.Union(Duration.anyOf, { default: 10_000 })),
    /** Level of the log line. */
    level: Type.Optional(
      Type.Union([Type.Literal('warn'), Type.Literal('info'), Type.Literal('debug')], { default: 'warn' })
    ),
  },
  { additionalProperties: false }
)

export type CspReportOptions = Static<typeof CspReportOptionsSchema>
