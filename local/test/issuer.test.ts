import { mkdtempSync, readFileSync, statSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JwtRsaVerifier } from 'aws-jwt-verify';
import { jwkThumbprint, jwksDocument, loadOrCreateIssuerKeys, localIssuerUrl, signToken } from '../issuer';

/** The audience the app sets (scripts/local.ts); the package's default is DEFAULT_AUDIENCE. */
const LOCAL_AUDIENCE = 'activity-tracker-local';

describe('local issuer', () => {
  let stateDir: string;
  beforeAll(() => {
    stateDir = mkdtempSync(join(tmpdir(), 'local-issuer-'));
  });
  afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

  it('computes the RFC 7638 thumbprint (the RFC example key)', () => {
    const n =
      '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw';
    expect(jwkThumbprint({ n, e: 'AQAB' })).toBe('NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
  });

  it('creates one RSA 2048 key pair, private to the owner, and reuses it', () => {
    const keys = loadOrCreateIssuerKeys(stateDir);
    const file = join(stateDir, 'keys', 'issuer-private.pem');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toContain('BEGIN PRIVATE KEY');
    expect(Buffer.from(keys.jwk.n, 'base64url')).toHaveLength(256);
    expect(loadOrCreateIssuerKeys(stateDir).jwk).toEqual(keys.jwk);
    expect(jwksDocument(keys)).toEqual({
      keys: [{ kty: 'RSA', n: keys.jwk.n, e: 'AQAB', kid: jwkThumbprint(keys.jwk), alg: 'RS256', use: 'sig' }],
    });
  });

  it('signs tokens aws-jwt-verify accepts against the JWKS', async () => {
    const keys = loadOrCreateIssuerKeys(stateDir);
    const token = signToken(keys, { tenant: 'acme', scope: 'events:write events:read', port: 4321, aud: LOCAL_AUDIENCE });
    const verifier = JwtRsaVerifier.create({
      issuer: localIssuerUrl(4321),
      audience: LOCAL_AUDIENCE,
      jwksUri: 'http://127.0.0.1:4321/_local/jwks.json',
    });
    verifier.cacheJwks(jwksDocument(keys) as unknown as Parameters<typeof verifier.cacheJwks>[0]);
    const payload = await verifier.verify(token);
    expect(payload).toMatchObject({
      iss: 'http://127.0.0.1:4321/_local/issuer',
      aud: 'activity-tracker-local',
      sub: 'local-user',
      tenant_id: 'acme',
      scope: 'events:write events:read',
    });
    expect(payload.exp! - payload.iat!).toBe(3600);
    expect(typeof payload.jti).toBe('string');
    const [header] = token.split('.');
    expect(JSON.parse(Buffer.from(header!, 'base64url').toString())).toEqual({ alg: 'RS256', typ: 'at+jwt', kid: keys.jwk.kid });
  });

  it('honours sub, ttl, aud and extra claims', async () => {
    const keys = loadOrCreateIssuerKeys(stateDir);
    const now = new Date('2026-11-21T10:00:00Z');
    const token = signToken(keys, { tenant: 't', scope: '', sub: 'svc', ttlSeconds: 60, aud: 'other', claims: { extra: 1 }, now });
    const payload = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    expect(payload).toMatchObject({
      iss: 'http://127.0.0.1:3000/_local/issuer',
      sub: 'svc',
      aud: 'other',
      iat: 1795255200,
      exp: 1795255260,
      extra: 1,
    });
  });
});
