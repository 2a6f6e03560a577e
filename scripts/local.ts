/**
 * `npm start`, `npm run token`, `npm run redrive`: the local runtime (the `local/` workspace,
 * @activity-tracker/local) with this app's glue — what the generic runtime cannot know: the tenant
 * claim is the template's AUTH_TENANT_CLAIM; in Cognito mode the local issuer (standing in for the
 * user pool at the gateway) writes scopes with the resource server's prefix, as Cognito does; in
 * OIDC mode the token authorizer trusts the local issuer through its AUTH_* variables.
 *
 *   npm start [-- --persist] [-- --no-synth] [-- --out DIR] [-- --stack NAME] [-- -c key=value ...]
 */
import { randomBytes } from 'node:crypto';
import { runLocalCli, type LocalAppConfig, type LocalPage } from '@activity-tracker/local';

/** `aud` of local tokens, and the AUTH_AUDIENCE the OIDC authorizer checks. */
export const LOCAL_AUDIENCE = 'activity-tracker-local';

/** The tenant GET /_local/viewer shows by default: the README walk-through's. */
export const VIEWER_DEMO_TENANT = 'acme';

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/**
 * GET /_local/viewer[?tenant=T&userId=U]: the embedding example, run locally. Its "server side"
 * does what an app's server does: with its own `events:read` token it mints a viewer token
 * (POST /v1/viewer-sessions), then serves a page that loads <activity-log> from the API and hands
 * it only the viewer token. The page's CSP allows this origin only, so nothing else can load.
 */
const viewerDemo: LocalPage = {
  title: 'viewer demo',
  render: async ({ baseUrl, token }, query) => {
    const tenant = query.get('tenant') ?? VIEWER_DEMO_TENANT;
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(tenant)) throw new Error('tenant must be 1..64 of [A-Za-z0-9_-]');
    const userId = query.get('userId') || undefined;
    const res = await fetch(`${baseUrl}/v1/viewer-sessions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token({ tenant, scope: 'events:read' })}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ttlSeconds: 900, ...(userId !== undefined && { userId }) }),
    });
    const text = await res.text();
    if (res.status !== 201) throw new Error(`POST /v1/viewer-sessions answered ${res.status}: ${text}`);
    const viewerToken = (JSON.parse(text) as { token: string }).token;
    const nonce = randomBytes(16).toString('base64');
    return {
      contentType: 'text/html; charset=utf-8',
      headers: {
        'Content-Security-Policy': `default-src 'none'; script-src 'self' 'nonce-${nonce}'; connect-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self'; base-uri 'none'; form-action 'none'`,
        'Referrer-Policy': 'no-referrer',
      },
      body: `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Activity log — ${escapeHtml(tenant)} (local demo)</title>
<style>body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; background: #f6f8fa; } h1 { font-size: 20px; }</style>
<script type="module" src="/viewer/activity-log.js"></script>
</head>
<body>
<h1>Activity of tenant <code>${escapeHtml(tenant)}</code>${userId === undefined ? '' : `, user <code>${escapeHtml(userId)}</code>`}</h1>
<p>The <code>&lt;activity-log&gt;</code> web component (docs/viewer.md) with a viewer token this server minted; reload for a new one.</p>
<activity-log api-base="${escapeHtml(baseUrl)}" token="${escapeHtml(viewerToken)}" page-size="10"></activity-log>
<script type="module" nonce="${nonce}">
// A viewer token lives 15 minutes: when the API answers 401, fetch the page again for a new one
// (not within a minute of loading: a token refused at once would only loop).
const loadedAt = Date.now();
document.querySelector('activity-log').addEventListener('activity-log-unauthorized', () => {
  if (Date.now() - loadedAt > 60000) location.reload();
});
</script>
</body>
</html>
`,
    };
  },
};

export const localConfig: LocalAppConfig = {
  // The embedding example (docs/viewer.md), printed in the start banner.
  pages: { viewer: viewerDemo },
  // The status page (GET /_local/) charts this app's own EMF metrics.
  dashboard: {
    title: 'Activity Tracker — local status',
    in: 'EventsAccepted',
    out: 'EventsWritten',
    rejected: 'EventsRejected',
    failures: 'BatchItemFailures',
    lag: 'EndToEndLag',
    byReason: { metric: 'EventsRejectedByReason', dimension: 'reason' },
  },
  issuer: {
    audience: LOCAL_AUDIENCE,
    tenantClaim: (model) =>
      model.functions.map((fn) => fn.rawEnvironment.AUTH_TENANT_CLAIM).find((v): v is string => typeof v === 'string'),
    // `events:read` → `activity-tracker/events:read`, the scope the Cognito authorizer asks for.
    scopePrefix: (model) => {
      const ids = Object.values(model.resources)
        .filter((r) => r.Type === 'AWS::Cognito::UserPoolResourceServer')
        .map((r) => r.Properties?.Identifier)
        .filter((id): id is string => typeof id === 'string');
      return ids.length === 1 ? `${ids[0]}/` : undefined;
    },
  },
  // Every function learns where the local issuer is (as before gateway authentication; the API
  // functions do not read it). Only a function that verifies tokens itself (the token authorizer)
  // has its scope claim and format replaced. The scope prefix stays the template's: the local
  // issuer writes the resource server's prefix in Cognito mode (as the template's AUTH_SCOPE_PREFIX
  // and AUTH_REQUIRED_SCOPES expect) and none in OIDC mode (where the template's prefix is empty).
  // Every other AUTH_* variable (tenant claim, lifetime cap, clock skew, access-token rule) is the template's.
  environment: (fn, { issuer }): Record<string, string> => ({
    AUTH_ISSUER: issuer.url,
    AUTH_AUDIENCE: issuer.audience,
    AUTH_JWKS_URI: issuer.jwksUri,
    ...(fn.rawEnvironment.AUTH_ISSUER !== undefined && {
      AUTH_SCOPE_PREFIX: typeof fn.rawEnvironment.AUTH_SCOPE_PREFIX === 'string' ? fn.rawEnvironment.AUTH_SCOPE_PREFIX : '',
      // The local issuer writes scopes as OAuth 2.0 does, whatever format the real issuer uses.
      AUTH_SCOPE_CLAIM: 'scope',
      AUTH_SCOPE_FORMAT: 'space-separated',
    }),
  }),
};

if (require.main === module) void runLocalCli(process.argv.slice(2), localConfig);
