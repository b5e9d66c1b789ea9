/** Longest returnTo kept; the state (which carries it) must stay under 512 characters. */
export const MAX_RETURN_TO = 200

/**
 * The path to send the user back to after login, or `/`. Only a same-site
 * relative path survives: it starts with one `/` (`//evil.com` is
 * protocol-relative), holds no backslash (browsers read `/\evil.com` as
 * `//evil.com`), no whitespace or control characters (browsers drop tabs
 * and newlines inside URLs, so `/\t/evil.com` would become `//evil.com`),
 * and only printable ASCII, which is also all a Location header may hold.
 */
export function sanitizeReturnTo (value: unknown): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_RETURN_TO) return '/'
  if (value[0] !== '/' || value[1] === '/') return '/'
  return /^[\x21-\x5B\x5D-\x7E]+$/.test(value) ? value : '/'
}
