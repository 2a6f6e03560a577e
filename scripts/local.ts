/**
 * `npm start`, `npm run token`, `npm run redrive`: the local runtime (the `local/` workspace,
 * @activity-tracker/local) with this app's glue — what the generic runtime cannot know: the
 * functions trust the local issuer through their AUTH_* variables, and the tenant claim is the
 * template's AUTH_TENANT_CLAIM.
 *
 *   npm start [-- --persist] [-- --no-synth] [-- --out DIR] [-- --stack NAME] [-- -c key=value ...]
 */
import { runLocalCli, type LocalAppConfig } from '@activity-tracker/local';

/** `aud` of local tokens, and the AUTH_AUDIENCE the functions check. */
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
  },
  // Every other AUTH_* variable (tenant claim, lifetime cap, clock skew, access-token rule) is the template's.
  environment: (_fn, { issuer }) => ({
    AUTH_ISSUER: issuer.url,
    AUTH_AUDIENCE: issuer.audience,
    AUTH_JWKS_URI: issuer.jwksUri,
    AUTH_SCOPE_PREFIX: '',
    // The local issuer writes scopes as OAuth 2.0 does, whatever format the real issuer uses.
    AUTH_SCOPE_CLAIM: 'scope',
    AUTH_SCOPE_FORMAT: 'space-separated',
  }),
};

if (require.main === module) void runLocalCli(process.argv.slice(2), localConfig);
