/** The API's OAuth scopes (claim `scope`; Cognito prefixes them with its resource server). */
export const SCOPES = ['events:write', 'events:read', 'events:delete', 'events:erase', 'events:export'] as const;
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
  'POST /v1/exports': 'events:export',
  'GET /v1/exports/{id}': 'events:export',
  'POST /v1/viewer-sessions': 'events:read',
} as const satisfies Record<string, Scope>;
export type Route = keyof typeof ROUTE_SCOPES;

/**
 * The only routes a viewer token (POST /v1/viewer-sessions) opens, by name: reads and stats. A
 * viewer token is refused (403) everywhere else, whatever scope it carries — in particular on
 * POST /v1/viewer-sessions, so a viewer cannot mint itself a longer or unrestricted token.
 */
export const VIEWER_ROUTES: ReadonlySet<string> = new Set(['GET /v1/events', 'GET /v1/events/{id}', 'GET /v1/stats']);

/** Viewer routes that take a `userId` filter: a viewer token bound to one user must send exactly it. */
export const VIEWER_USER_FILTERED_ROUTES: ReadonlySet<string> = new Set(['GET /v1/events', 'GET /v1/stats']);

/**
 * Routes without an authorizer: the viewer's static module (no data; a `<script>` tag sends no
 * token). Every other route needs a token and its scope (ROUTE_SCOPES).
 */
export const PUBLIC_ROUTES: ReadonlySet<string> = new Set(['GET /viewer/{file}']);

// Every scope opens some route: a scope no route needs fails to compile here.
const everyScopeUsed: [Exclude<Scope, (typeof ROUTE_SCOPES)[Route]>] extends [never] ? true : never = true;
void everyScopeUsed;
