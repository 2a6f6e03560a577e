import type { Scope } from '../../../contract';
import { createTokenVerifier } from '../../../lambdas/adapters/jwt-authenticator';
import { requireScope, type Principal } from '../../../lambdas/core/auth';
import { FetchError } from 'aws-jwt-verify/error';
import type { AuthConfig } from '../../../lambdas/shared/config';
import { ecKeys, rsaKeys, signJwt } from '../../support/jwt';

const ISSUER = 'https://issuer.test';
const config: AuthConfig = {
  issuer: ISSUER,
  audience: ['activity-tracker'],
  jwksUri: 'https://issuer.test/jwks.json',
  tenantClaim: 'tenant_id',
  scopePrefix: '',
  scopeClaim: 'scope',
  scopeFormat: 'space-separated',
  maxTokenLifetimeSeconds: 86_400,
  clockSkewSeconds: 30,
  accessTokenRule: { kind: 'typ' },
  jwksMaxAgeSeconds: 900,
  requiredScopes: [],
};
const rsa = rsaKeys();
const ec = ecKeys();
const jwks = { keys: [rsa.publicJwk, ec.publicJwk] };
const now = () => Math.floor(Date.now() / 1000);
const claims = (extra: Record<string, unknown> = {}) => ({
  iss: ISSUER,
  aud: 'activity-tracker',
  sub: 'svc',
  tenant_id: 'acme',
  scope: 'events:read events:write',
  iat: now(),
  exp: now() + 600,
  ...extra,
});

const fetcher = (body: unknown = jwks) => {
  const calls: string[] = [];
  return {
    calls,
    fetch: async (uri: string) => {
      calls.push(uri);
      if (body instanceof Error) throw body;
      return new TextEncoder().encode(JSON.stringify(body)).buffer as ArrayBuffer;
    },
  };
};
const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

type Authenticate = (headers: { Authorization?: string }, scope: Scope) => Promise<Principal>;
/** The verifier (the OIDC authorizer's), then the route's scope check the functions do on its output. */
const createAuthenticator = (...args: Parameters<typeof createTokenVerifier>): Authenticate => {
  const verify = createTokenVerifier(...args);
  return async (headers, scope) => {
    const { principal } = await verify(headers.Authorization);
    requireScope(principal, scope);
    return principal;
  };
};

describe('JWT authentication', () => {
  let authenticate: Authenticate;
  beforeEach(() => {
    authenticate = createAuthenticator(config, fetcher());
  });

  it('accepts an RS256 and an ES256 token and takes the tenant from the claim', async () => {
    await expect(authenticate(bearer(signJwt(rsa, claims())), 'events:read')).resolves.toMatchObject({ tenant: 'acme', subject: 'svc' });
    await expect(authenticate(bearer(signJwt(ec, claims({ tenant_id: 'globex' }))), 'events:write')).resolves.toMatchObject({
      tenant: 'globex',
    });
  });

  it.each([
    ['no header', {}],
    ['a non-bearer scheme', { Authorization: 'Basic abc' }],
    ['garbage', bearer('garbage')],
  ])('answers 401 with %s', async (_name, headers) => {
    await expect(authenticate(headers, 'events:read')).rejects.toMatchObject({ status: 401 });
  });

  it.each([
    ['alg none', () => signJwt(rsa, claims(), { alg: 'none' })],
    ['alg NoNe', () => signJwt(rsa, claims(), { alg: 'NoNe' })],
    ['HS256 keyed with the RSA public key', () => signJwt(rsa, claims(), { alg: 'HS256' })],
    ['an RS384 token', () => signJwt(rsa, claims(), { alg: 'RS384' })],
    ['an expired token', () => signJwt(rsa, claims({ exp: now() - 120, iat: now() - 700 }))],
    ['a token without exp', () => signJwt(rsa, claims({ exp: undefined }))],
    ['a token living longer than 24 h', () => signJwt(rsa, claims({ exp: now() + 25 * 3600 }))],
    ['nbf in the future', () => signJwt(rsa, claims({ nbf: now() + 600 }))],
    ['a wrong issuer', () => signJwt(rsa, claims({ iss: 'https://evil.test' }))],
    ['a wrong audience', () => signJwt(rsa, claims({ aud: 'other' }))],
    ['no tenant claim', () => signJwt(rsa, claims({ tenant_id: undefined }))],
    ['a malformed tenant claim', () => signJwt(rsa, claims({ tenant_id: 'acme#0' }))],
    ['an unknown kid', () => signJwt(rsa, claims(), { kid: '../../etc/passwd' })],
    [
      'a payload edited after signing',
      () => {
        const [h, , s] = signJwt(rsa, claims()).split('.');
        return `${h}.${Buffer.from(JSON.stringify(claims({ tenant_id: 'globex' }))).toString('base64url')}.${s}`;
      },
    ],
  ])('rejects %s with 401', async (_name, token) => {
    await expect(authenticate(bearer(token()), 'events:read')).rejects.toMatchObject({ status: 401 });
  });

  it('answers 403 for a valid token without the route scope', async () => {
    await expect(authenticate(bearer(signJwt(rsa, claims({ scope: 'events:read' }))), 'events:write')).rejects.toMatchObject({
      status: 403,
      message: expect.stringContaining('events:write'),
    });
  });

  it('strips a configured scope prefix (Cognito resource-server scopes)', async () => {
    const cognito = createAuthenticator({ ...config, audience: [], scopePrefix: 'activity-tracker/' }, fetcher());
    const token = signJwt(rsa, claims({ aud: undefined, scope: 'activity-tracker/events:read events:write' }));
    await expect(cognito(bearer(token), 'events:read')).resolves.toMatchObject({ tenant: 'acme' });
    await expect(cognito(bearer(token), 'events:write')).rejects.toMatchObject({ status: 403 });
  });

  it('rejects a scope claim that is not a string (aws-jwt-verify) with 401', async () => {
    await expect(authenticate(bearer(signJwt(rsa, claims({ scope: ['events:read'] }))), 'events:read')).rejects.toMatchObject({
      status: 401,
    });
  });

  it('reads scopes from another claim, as an array, when configured for it', async () => {
    const scp = createAuthenticator({ ...config, scopeClaim: 'scp', scopeFormat: 'array' }, fetcher());
    const token = signJwt(rsa, claims({ scope: undefined, scp: ['events:read'] }));
    await expect(scp(bearer(token), 'events:read')).resolves.toMatchObject({ tenant: 'acme' });
    await expect(scp(bearer(token), 'events:write')).rejects.toMatchObject({ status: 403 });
    // A space-separated string where an array is expected grants nothing.
    await expect(scp(bearer(signJwt(rsa, claims({ scope: undefined, scp: 'events:read' }))), 'events:read')).rejects.toMatchObject({
      status: 403,
    });
    // The `scope` claim is not read when another claim is configured.
    await expect(scp(bearer(signJwt(rsa, claims({ scope: 'events:read' }))), 'events:read')).rejects.toMatchObject({ status: 403 });
  });

  it('takes only access tokens by RFC 9068: an ID token of the same issuer is refused', async () => {
    await expect(authenticate(bearer(signJwt(rsa, claims(), { typ: 'JWT' })), 'events:read')).rejects.toMatchObject({ status: 401 });
    await expect(authenticate(bearer(signJwt(rsa, claims(), { typ: undefined })), 'events:read')).rejects.toMatchObject({ status: 401 });
    await expect(authenticate(bearer(signJwt(rsa, claims(), { typ: 'application/at+jwt' })), 'events:read')).resolves.toMatchObject({
      tenant: 'acme',
    });
  });

  it('takes only access tokens by a configured claim (a Cognito ID token has token_use id)', async () => {
    const cognito = createAuthenticator({ ...config, accessTokenRule: { kind: 'claim', claim: 'token_use', value: 'access' } }, fetcher());
    await expect(cognito(bearer(signJwt(rsa, claims({ token_use: 'id' }))), 'events:read')).rejects.toMatchObject({ status: 401 });
    await expect(cognito(bearer(signJwt(rsa, claims())), 'events:read')).rejects.toMatchObject({ status: 401 });
    await expect(cognito(bearer(signJwt(rsa, claims({ token_use: 'access' }), { typ: 'JWT' })), 'events:read')).resolves.toMatchObject({
      tenant: 'acme',
    });
  });

  it('refuses a token issued in the future beyond the clock skew', async () => {
    await expect(authenticate(bearer(signJwt(rsa, claims({ iat: now() + 120 }))), 'events:read')).rejects.toMatchObject({ status: 401 });
    await expect(authenticate(bearer(signJwt(rsa, claims({ iat: now() + 10 }))), 'events:read')).resolves.toMatchObject({ tenant: 'acme' });
  });

  it('stops trusting a key the issuer removed once the cached JWKS is older than the configured age', async () => {
    let served = { keys: [rsa.publicJwk, ec.publicJwk] };
    const calls: string[] = [];
    const auth = createAuthenticator(config, {
      fetch: async (uri: string) => {
        calls.push(uri);
        return new TextEncoder().encode(JSON.stringify(served)).buffer as ArrayBuffer;
      },
    });
    await expect(auth(bearer(signJwt(ec, claims())), 'events:read')).resolves.toMatchObject({ tenant: 'acme' });
    served = { keys: [rsa.publicJwk] };
    const start = Date.now();
    const clock = jest.spyOn(Date, 'now');
    try {
      clock.mockReturnValue(start + 899_000);
      await expect(auth(bearer(signJwt(ec, claims())), 'events:read')).resolves.toMatchObject({ tenant: 'acme' });
      clock.mockReturnValue(start + 901_000);
      await expect(auth(bearer(signJwt(ec, claims())), 'events:read')).rejects.toMatchObject({ status: 401 });
      await expect(auth(bearer(signJwt(rsa, claims())), 'events:read')).resolves.toMatchObject({ tenant: 'acme' });
    } finally {
      clock.mockRestore();
    }
    expect(calls).toHaveLength(2);
  });

  it.each([
    ['65 characters', 'a'.repeat(65)],
    ['an empty string', ''],
    ['a dot', 'acme.corp'],
    ['a space', 'acme corp'],
    ['a number', 42],
    ['an array', ['acme']],
  ])('rejects a tenant claim with %s', async (_name, tenant) => {
    await expect(authenticate(bearer(signJwt(rsa, claims({ tenant_id: tenant }))), 'events:read')).rejects.toMatchObject({ status: 401 });
  });

  it('accepts a tenant claim of 64 characters of [A-Za-z0-9_-]', async () => {
    const tenant = `Ab0_-${'x'.repeat(59)}`;
    await expect(authenticate(bearer(signJwt(rsa, claims({ tenant_id: tenant }))), 'events:read')).resolves.toMatchObject({ tenant });
  });

  it('honours a configured lifetime cap and clock skew', async () => {
    const strict = createAuthenticator({ ...config, maxTokenLifetimeSeconds: 600, clockSkewSeconds: 0 }, fetcher());
    await expect(strict(bearer(signJwt(rsa, claims({ exp: now() + 601 }))), 'events:read')).rejects.toMatchObject({ status: 401 });
    await expect(strict(bearer(signJwt(rsa, claims({ exp: now() - 1 }))), 'events:read')).rejects.toMatchObject({ status: 401 });
    // Within the default skew (30 s here), a token that just expired still passes.
    await expect(authenticate(bearer(signJwt(rsa, claims({ exp: now() - 10 }))), 'events:read')).resolves.toMatchObject({ tenant: 'acme' });
  });

  it('answers 503, never acceptance, when the JWKS cannot be fetched at cold start', async () => {
    const down = createAuthenticator(config, fetcher(new FetchError(config.jwksUri, 'connect ECONNREFUSED')));
    await expect(down(bearer(signJwt(rsa, claims())), 'events:read')).rejects.toMatchObject({ status: 503 });
  });

  it('refetches the JWKS once for an unknown kid (key rotation) and then accepts the new key', async () => {
    const rotated = rsaKeys('rotated');
    const calls: string[] = [];
    let served = { keys: [rsa.publicJwk] };
    const auth = createAuthenticator(config, {
      fetch: async (uri: string) => {
        calls.push(uri);
        return new TextEncoder().encode(JSON.stringify(served)).buffer as ArrayBuffer;
      },
    });
    await auth(bearer(signJwt(rsa, claims())), 'events:read');
    served = { keys: [rsa.publicJwk, rotated.publicJwk] };
    await expect(auth(bearer(signJwt(rotated, claims())), 'events:read')).resolves.toMatchObject({ tenant: 'acme' });
    await auth(bearer(signJwt(rotated, claims())), 'events:read');
    expect(calls).toHaveLength(2);
  });

  it('caches the JWKS across calls', async () => {
    const f = fetcher();
    const auth = createAuthenticator(config, f);
    await auth(bearer(signJwt(rsa, claims())), 'events:read');
    await auth(bearer(signJwt(rsa, claims())), 'events:read');
    expect(f.calls).toHaveLength(1);
  });
});
