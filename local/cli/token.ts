/**
 * `npm run --silent token -- --tenant T --scope "events:write events:read" [--sub S] [--ttl SECONDS] [--aud A] [--claim k=v ...] [--offset-ms N]`
 * prints only a token signed by the local issuer for the stack `npm start` runs (its port and tenant
 * claim, from `.local/running.json`; PORT overrides the port, 3000 when no stack runs). `--offset-ms`
 * issues it N ms ahead, for a stack whose clock was moved with `POST /_local/clock`.
 */
import { parseArgs } from 'node:util';
import {
  DEFAULT_AUDIENCE,
  DEFAULT_PORT,
  DEFAULT_TENANT_CLAIM,
  loadOrCreateIssuerKeys,
  prefixScopes,
  readRunningStack,
  signToken,
} from '../issuer';
import type { LocalAppConfig } from './start';

const USAGE =
  'usage: [PORT=3000] npm run --silent token -- --tenant T --scope "events:write events:read" [--sub S] [--ttl SECONDS] [--aud A] [--claim k=v ...] [--offset-ms N]';

const fail = (message: string): never => {
  process.stderr.write(`${message}\n${USAGE}\n`);
  process.exit(2);
};

/** Runs `token` with the arguments after the command name; prints only the token. */
export const runToken = (args: readonly string[], config: LocalAppConfig = {}) => {
  let values: {
    tenant?: string;
    scope?: string;
    sub?: string;
    ttl?: string;
    aud?: string;
    claim?: string[];
    'offset-ms'?: string;
    help?: boolean;
  };
  try {
    ({ values } = parseArgs({
      options: {
        tenant: { type: 'string' },
        scope: { type: 'string' },
        sub: { type: 'string' },
        ttl: { type: 'string' },
        aud: { type: 'string' },
        claim: { type: 'string', multiple: true },
        'offset-ms': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      args: [...args],
      strict: true,
      allowPositionals: false,
    }));
  } catch (e) {
    return fail((e as Error).message);
  }
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (!values.tenant) return fail('--tenant is required');
  if (values.scope === undefined) return fail('--scope is required (use "" for none)');
  const ttl = values.ttl === undefined ? undefined : Number(values.ttl);
  if (ttl !== undefined && (!Number.isInteger(ttl) || ttl <= 0)) return fail('--ttl must be a positive integer (seconds)');
  const offsetText = values['offset-ms'];
  const offsetMs = offsetText === undefined ? 0 : Number(offsetText);
  if (!Number.isInteger(offsetMs)) return fail(`--offset-ms must be an integer (milliseconds), got ${offsetText}`);
  const stateDir = process.env.LOCAL_STATE_DIR || undefined;
  const running = readRunningStack(stateDir);
  const portText = process.env.PORT;
  const port = portText === undefined || portText === '' ? (running?.port ?? DEFAULT_PORT) : Number(portText);
  if (!Number.isInteger(port) || port <= 0 || port > 65535) return fail(`PORT must be a TCP port, got ${portText}`);
  const claims: Record<string, unknown> = {};
  for (const c of values.claim ?? []) {
    const eq = c.indexOf('=');
    if (eq <= 0) return fail(`--claim needs k=v, got ${c}`);
    const raw = c.slice(eq + 1);
    let value: unknown = raw;
    try {
      value = JSON.parse(raw);
    } catch {
      // a plain string
    }
    claims[c.slice(0, eq)] = value;
  }
  const configuredClaim = typeof config.issuer?.tenantClaim === 'string' ? config.issuer.tenantClaim : undefined;
  const token = signToken(loadOrCreateIssuerKeys(stateDir), {
    tenant: values.tenant,
    tenantClaim: running?.tenantClaim ?? configuredClaim ?? DEFAULT_TENANT_CLAIM,
    scope: prefixScopes(values.scope, running?.scopePrefix),
    port,
    aud: values.aud ?? running?.audience ?? config.issuer?.audience ?? DEFAULT_AUDIENCE,
    ...(values.sub !== undefined ? { sub: values.sub } : {}),
    ...(ttl !== undefined ? { ttlSeconds: ttl } : {}),
    claims,
    now: new Date(Date.now() + offsetMs),
  });
  process.stdout.write(`${token}\n`);
};
