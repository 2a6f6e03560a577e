/**
 * Onboards a tenant on a stack deployed in the default (Cognito) auth mode:
 *
 *   npm run --silent tenant:add -- --tenant acme [--scopes "events:write events:read"]
 *       [--stack ActivityTracker] [--region eu-west-1] [--validity-minutes 60] [--execute]
 *
 * Prints the AWS CLI commands (a bash script) that create the tenant's app client — named
 * `tenant-<id>`, client-credentials flow only, a secret, the chosen scopes — and show how to get
 * a token. With --execute it runs them (AWS CLI v2 and credentials for the account needed).
 * The client's name is what binds it to the tenant: the pre-token-generation trigger reads it.
 */
import { spawnSync } from 'node:child_process';
import { parseArgs } from 'node:util';
import { tenantClientName } from '../lambdas/core/tenant-client';
import { SCOPES } from '../contract';
import { RESOURCE_SERVER_ID } from '../lib/constructs/cognito-auth';

export interface TenantAddOptions {
  readonly tenant: string;
  /** API scopes without the resource-server prefix. */
  readonly scopes: readonly string[];
  readonly stack: string;
  readonly region?: string;
  /** Access-token lifetime, 5..1440 minutes; keep it within the stack's maxTokenLifetimeSeconds. */
  readonly validityMinutes: number;
}

const quote = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`;

/** The bash script that onboards the tenant; throws on an invalid option. */
export const tenantAddScript = (opts: TenantAddOptions): string => {
  const clientName = tenantClientName(opts.tenant);
  if (opts.scopes.length === 0) throw new Error('at least one scope is needed');
  for (const scope of opts.scopes) {
    if (!(SCOPES as readonly string[]).includes(scope)) throw new Error(`unknown scope '${scope}': expected some of ${SCOPES.join(', ')}`);
  }
  if (!Number.isInteger(opts.validityMinutes) || opts.validityMinutes < 5 || opts.validityMinutes > 1440) {
    throw new Error('the token validity must be 5..1440 minutes (Cognito limits; the API caps lifetimes at maxTokenLifetimeSeconds)');
  }
  if (!/^[A-Za-z][A-Za-z0-9-]{0,127}$/.test(opts.stack)) throw new Error(`invalid stack name '${opts.stack}'`);
  if (opts.region !== undefined && !/^[a-z]{2}(-[a-z]+)+-\d$/.test(opts.region)) throw new Error(`invalid region '${opts.region}'`);

  const region = opts.region ? ` --region ${opts.region}` : '';
  const scopes = opts.scopes.map((s) => `${RESOURCE_SERVER_ID}/${s}`).join(' ');
  const output = (key: string) =>
    `$(aws cloudformation describe-stacks${region} --stack-name ${quote(opts.stack)} --query "Stacks[0].Outputs[?OutputKey=='${key}'].OutputValue" --output text)`;
  return [
    'set -euo pipefail',
    `POOL_ID=${output('UserPoolId')}`,
    `TOKEN_URL=${output('TokenUrl')}`,
    `API_URL=${output('ApiUrl')}`,
    '# One app client per tenant: its name binds it to the tenant, client credentials only, no user sign-in flows.',
    `read -r CLIENT_ID CLIENT_SECRET < <(aws cognito-idp create-user-pool-client${region} \\`,
    `  --user-pool-id "$POOL_ID" --client-name ${quote(clientName)} --generate-secret \\`,
    '  --explicit-auth-flows ALLOW_REFRESH_TOKEN_AUTH \\',
    `  --allowed-o-auth-flows client_credentials --allowed-o-auth-flows-user-pool-client --allowed-o-auth-scopes ${scopes} \\`,
    `  --access-token-validity ${opts.validityMinutes} --token-validity-units AccessToken=minutes \\`,
    '  --prevent-user-existence-errors ENABLED --enable-token-revocation \\',
    "  --query 'UserPoolClient.[ClientId,ClientSecret]' --output text)",
    `echo "tenant ${opts.tenant}: app client $CLIENT_ID (${clientName}), scopes ${scopes}"`,
    'echo "client secret (shown once: hand it to the tenant through a secret store): $CLIENT_SECRET"',
    `echo "get a token:  curl -s -u \\"$CLIENT_ID:<secret>\\" -d grant_type=client_credentials --data-urlencode 'scope=${scopes}' \\"$TOKEN_URL\\" | jq -r .access_token"`,
    'echo "call the API: curl -H \\"authorization: Bearer <token>\\" \\"${API_URL}v1/events\\""',
    '',
  ].join('\n');
};

const USAGE =
  'usage: npm run --silent tenant:add -- --tenant ID [--scopes "events:write events:read"] [--stack ActivityTracker] [--region R] [--validity-minutes 60] [--execute]';

const main = (): void => {
  const { values } = parseArgs({
    options: {
      tenant: { type: 'string' },
      scopes: { type: 'string', default: 'events:write events:read' },
      stack: { type: 'string', default: 'ActivityTracker' },
      region: { type: 'string' },
      'validity-minutes': { type: 'string', default: '60' },
      execute: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (!values.tenant) throw new Error('--tenant is required');
  const script = tenantAddScript({
    tenant: values.tenant,
    scopes: values.scopes.split(/\s+/).filter(Boolean),
    stack: values.stack,
    validityMinutes: Number(values['validity-minutes']),
    ...(values.region !== undefined && { region: values.region }),
  });
  if (!values.execute) {
    process.stdout.write(script);
    return;
  }
  const run = spawnSync('bash', ['-c', script], { stdio: 'inherit' });
  process.exitCode = run.status ?? 1;
};

if (require.main === module) {
  try {
    main();
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n${USAGE}\n`);
    process.exitCode = 2;
  }
}
