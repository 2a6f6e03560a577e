/**
 * `npm start`, `npm run token`, `npm run redrive`: the local runtime (the `local/` workspace,
 * @activity-tracker/local) with this app's glue — what the generic runtime cannot know: the tenant
 * claim is the template's AUTH_TENANT_CLAIM; in Cognito mode the local issuer (standing in for the
 * user pool at the gateway) writes scopes with the resource server's prefix, as Cognito does; in
 * OIDC mode the token authorizer trusts the local issuer through its AUTH_* variables.
 *
 *   npm start [-- --persist] [-- --no-synth] [-- --out DIR] [-- --stack NAME] [-- -c key=value ...]
 */
import { runLocalCli, type LocalAppConfig } from '@activity-tracker/local';

/** `aud` of local tokens, and the AUTH_AUDIENCE the OIDC authorizer checks. */
export const LOCAL_AUDIENCE = 'activity-tracker-local';

export const localConfig: LocalAppConfig = {
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
