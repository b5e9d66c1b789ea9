// Error codes a provider may send back (RFC 6749 section 4.1.2.1, OpenID
// Connect Core 3.1.2.6, RFC 9126, RFC 9396). Anything else is reported as
// 'error': the value is attacker-controllable text and goes into logs and
// answers only when it is one of these.
const KNOWN = new Set([
  'invalid_request', 'unauthorized_client', 'access_denied', 'unsupported_response_type', 'invalid_scope',
  'server_error', 'temporarily_unavailable', 'interaction_required', 'login_required', 'account_selection_required',
  'consent_required', 'invalid_request_uri', 'invalid_request_object', 'request_not_supported',
  'request_uri_not_supported', 'registration_not_supported', 'invalid_authorization_details',
])

export function providerErrorCode (error: string): string {
  return KNOWN.has(error) ? error : 'error'
}
