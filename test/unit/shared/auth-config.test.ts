import { ConfigError } from '../../../contract';
import { readAuthConfig } from '../../../lambdas/shared/config';

const base = { AUTH_ISSUER: 'https://issuer.test', AUTH_JWKS_URI: 'https://issuer.test/jwks.json' };

describe('readAuthConfig', () => {
  it('applies the defaults: tenant_id, space-separated scope, 24 h cap, 60 s skew, RFC 9068 access tokens, keys trusted 15 min', () => {
    expect(readAuthConfig(base)).toEqual({
      issuer: 'https://issuer.test',
      audience: [],
      jwksUri: 'https://issuer.test/jwks.json',
      tenantClaim: 'tenant_id',
      scopePrefix: '',
      scopeClaim: 'scope',
      scopeFormat: 'space-separated',
      maxTokenLifetimeSeconds: 86_400,
      clockSkewSeconds: 60,
      accessTokenRule: { kind: 'typ' },
      jwksMaxAgeSeconds: 900,
      requiredScopes: [],
    });
  });

  it('reads every setting', () => {
    expect(
      readAuthConfig({
        ...base,
        AUTH_AUDIENCE: 'a, b',
        AUTH_TENANT_CLAIM: 'org',
        AUTH_SCOPE_PREFIX: 'rs/',
        AUTH_SCOPE_CLAIM: 'scp',
        AUTH_SCOPE_FORMAT: 'array',
        AUTH_MAX_TOKEN_LIFETIME_SECONDS: '600',
        AUTH_CLOCK_SKEW_SECONDS: '5',
        AUTH_ACCESS_TOKEN_RULE: 'claim:token_use=access',
        AUTH_JWKS_MAX_AGE_SECONDS: '300',
      }),
    ).toEqual({
      issuer: 'https://issuer.test',
      audience: ['a', 'b'],
      jwksUri: 'https://issuer.test/jwks.json',
      tenantClaim: 'org',
      scopePrefix: 'rs/',
      scopeClaim: 'scp',
      scopeFormat: 'array',
      maxTokenLifetimeSeconds: 600,
      clockSkewSeconds: 5,
      accessTokenRule: { kind: 'claim', claim: 'token_use', value: 'access' },
      jwksMaxAgeSeconds: 300,
      requiredScopes: [],
    });
  });

  it('reads the scopes a token needs one of (Cognito mode)', () => {
    expect(readAuthConfig({ ...base, AUTH_REQUIRED_SCOPES: 'rs/a, rs/b' }).requiredScopes).toEqual(['rs/a', 'rs/b']);
  });

  it.each([
    ['no issuer', { AUTH_JWKS_URI: base.AUTH_JWKS_URI }],
    ['a plain-http JWKS off loopback', { ...base, AUTH_JWKS_URI: 'http://issuer.test/jwks.json' }],
    ['an unknown scope format', { ...base, AUTH_SCOPE_FORMAT: 'csv' }],
    ['an array format for the scope claim', { ...base, AUTH_SCOPE_FORMAT: 'array' }],
    [
      'required scopes in another claim than scope',
      { ...base, AUTH_SCOPE_CLAIM: 'scp', AUTH_SCOPE_FORMAT: 'array', AUTH_REQUIRED_SCOPES: 'a' },
    ],
    ['a lifetime cap above 7 days', { ...base, AUTH_MAX_TOKEN_LIFETIME_SECONDS: '604801' }],
    ['a clock skew above 5 minutes', { ...base, AUTH_CLOCK_SKEW_SECONDS: '301' }],
  ])('fails loudly on %s', (_name, env) => {
    expect(() => readAuthConfig(env)).toThrow(ConfigError);
  });

  it('allows plain http only for the local issuer on loopback', () => {
    expect(readAuthConfig({ ...base, AUTH_JWKS_URI: 'http://127.0.0.1:3000/_local/jwks.json' }).jwksUri).toBe(
      'http://127.0.0.1:3000/_local/jwks.json',
    );
  });
});
