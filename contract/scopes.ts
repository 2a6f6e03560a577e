/** The API's OAuth scopes (claim `scope`; Cognito prefixes them with its resource server). */
export const SCOPES = ['events:write', 'events:read', 'events:delete', 'events:erase'] as const;
export type Scope = (typeof SCOPES)[number];

/**
 * How the issuer writes the scopes: `"a b"` (OAuth 2.0, Cognito) or `["a","b"]` (some OIDC
 * providers, in a claim such as `scp`). aws-jwt-verify rejects a `scope` claim that is not a
 * string, so an array only ever comes from another claim.
 */
export const SCOPE_FORMATS = ['space-separated', 'array'] as const;
export type ScopeFormat = (typeof SCOPE_FORMATS)[number];

/** Route → the scope it needs (the handlers check the same ones; the attack suite proves it). */
export const ROUTE_SCOPES = {
  'POST /v1/events': 'events:write',
  'GET /v1/events': 'events:read',
  'GET /v1/events/{id}': 'events:read',
  'DELETE /v1/events/{id}': 'events:delete',
  'POST /v1/events/{id}/restore': 'events:delete',
  'POST /v1/erasures': 'events:erase',
  'GET /v1/erasures/{id}': 'events:erase',
  'GET /v1/stats': 'events:read',
} as const satisfies Record<string, Scope>;
export type Route = keyof typeof ROUTE_SCOPES;

// Every scope opens some route: a scope no route needs fails to compile here.
const everyScopeUsed: [Exclude<Scope, (typeof ROUTE_SCOPES)[Route]>] extends [never] ? true : never = true;
void everyScopeUsed;
