import { createHmac } from 'node:crypto';
import type { APIGatewayTokenAuthorizerEvent } from 'aws-lambda';
import { principalFromAuthorizer, requireViewerAccess, viewerAuthorizerContext } from '../../../lambdas/core/auth';
import { createViewerSession, mintViewerToken, parseViewerSessionRequest, verifyViewerToken } from '../../../lambdas/core/viewer-token';
import { configureHandlerEnv, lambdaContext } from '../../support/handler-env';
import { SECRET_V2, testKeyring } from '../../support/fakes';

configureHandlerEnv({ POWERTOOLS_LOG_LEVEL: 'SILENT', POWERTOOLS_DEV: 'true' });
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { createAuthorizerHandler } =
  require('../../../lambdas/handlers/authorizer') as typeof import('../../../lambdas/handlers/authorizer');

const keyring = testKeyring();
const NOW_S = Math.floor(Date.parse('2026-11-21T12:00:00Z') / 1000);
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const parts = (token: string) => token.split('.') as [string, string, string];
const payloadOf = (token: string) => JSON.parse(Buffer.from(parts(token)[1], 'base64url').toString('utf8'));

describe('viewer tokens', () => {
  const token = mintViewerToken(keyring, { tenant: 'acme', userId: 'u-42', exp: NOW_S + 600 }, NOW_S);

  it('verifies as its tenant and user until it expires', () => {
    expect(verifyViewerToken(keyring, token, NOW_S + 599)).toEqual({ tenant: 'acme', userId: 'u-42', exp: NOW_S + 600 });
    expect(() => verifyViewerToken(keyring, token, NOW_S + 600)).toThrow(/expired/);
  });

  it('refuses forged ones: tenant swapped, user dropped, lifetime raised, alg none, other key, other kid', () => {
    const [h, p, s] = parts(token);
    const payload = payloadOf(token);
    const resign = (header: object, body: object, key: Buffer) => {
      const input = `${b64(header)}.${b64(body)}`;
      return `${input}.${createHmac('sha256', key).update(input).digest('base64url')}`;
    };
    const forged = [
      `${h}.${b64({ ...payload, tenant: 'globex' })}.${s}`,
      `${h}.${b64({ ...payload, usr: undefined })}.${s}`,
      `${h}.${b64({ ...payload, exp: NOW_S + 86_400 })}.${s}`,
      `${b64({ alg: 'none', typ: 'viewer+jwt', kid: '1' })}.${p}.`,
      `${b64({ alg: 'HS256', typ: 'viewer+jwt', kid: '2' })}.${p}.${s}`,
      resign({ alg: 'HS256', typ: 'viewer+jwt', kid: '1' }, payload, Buffer.from('guessed-key')),
      resign({ alg: 'HS256', typ: 'viewer+jwt', kid: '1' }, { ...payload, iat: NOW_S, exp: NOW_S + 7200 }, keyring.current.viewerMac),
      `${h}.${p}.${s}A`,
      'garbage',
    ];
    for (const f of forged) expect(() => verifyViewerToken(keyring, f, NOW_S)).toThrow();
    // The mac key is derived for viewer tokens only: another key version's secret does not sign them.
    const other = testKeyring(SECRET_V2);
    expect(() => verifyViewerToken(keyring, mintViewerToken(other, { tenant: 'acme', exp: NOW_S + 60 }, NOW_S), NOW_S)).toThrow();
  });

  it('takes ttlSeconds 60..3600 and an optional userId, and names what is wrong', () => {
    expect(parseViewerSessionRequest('', undefined)).toEqual({ ttlSeconds: 900 });
    expect(parseViewerSessionRequest('{"userId":"u1","ttlSeconds":60}', 'application/json')).toEqual({ userId: 'u1', ttlSeconds: 60 });
    expect(() => parseViewerSessionRequest('{"ttlSeconds":3601}', 'application/json')).toThrow(/ttlSeconds/);
    expect(() => parseViewerSessionRequest('{"ttlSeconds":59}', 'application/json')).toThrow(/ttlSeconds/);
    expect(() => parseViewerSessionRequest('{"userId":""}', 'application/json')).toThrow(/userId/);
    expect(() => parseViewerSessionRequest('{"tenant":"x"}', 'application/json')).toThrow(/tenant/);
    const session = createViewerSession(
      'acme',
      { body: '{"ttlSeconds":120}', contentType: 'application/json' },
      { keyring, now: () => NOW_S * 1000 },
    );
    expect(session.expiresAt).toBe(new Date((NOW_S + 120) * 1000).toISOString());
    expect(verifyViewerToken(keyring, session.token, NOW_S)).toEqual({ tenant: 'acme', exp: NOW_S + 120 });
  });
});

describe('what a viewer token opens', () => {
  const settings = { tenantClaim: 'tenant_id', scopePrefix: '' };
  const bound = principalFromAuthorizer(viewerAuthorizerContext({ tenant: 'acme', userId: 'u-42' }), settings);
  const tenantWide = principalFromAuthorizer(viewerAuthorizerContext({ tenant: 'acme' }), settings);

  it('has only the read scope, whatever the context claims', () => {
    const raised = principalFromAuthorizer(
      { ...viewerAuthorizerContext({ tenant: 'acme' }), scopes: 'events:read events:erase events:export' },
      settings,
    );
    expect([...raised.scopes]).toEqual(['events:read']);
  });

  it.each([
    'POST /v1/events',
    'DELETE /v1/events/{id}',
    'POST /v1/events/{id}/restore',
    'POST /v1/erasures',
    'GET /v1/erasures/{id}',
    'POST /v1/exports',
    'GET /v1/exports/{id}',
    'POST /v1/viewer-sessions',
  ])('is refused on %s', (route) => {
    expect(() => requireViewerAccess(tenantWide, route, undefined)).toThrow(/viewer token/);
  });

  it('reads the tenant, or only its user when bound to one (the userId filter must be that user)', () => {
    expect(() => requireViewerAccess(tenantWide, 'GET /v1/events', undefined)).not.toThrow();
    expect(() => requireViewerAccess(tenantWide, 'GET /v1/stats', undefined)).not.toThrow();
    expect(() => requireViewerAccess(bound, 'GET /v1/events', 'u-42')).not.toThrow();
    expect(() => requireViewerAccess(bound, 'GET /v1/stats', 'u-42')).not.toThrow();
    expect(() => requireViewerAccess(bound, 'GET /v1/events', undefined)).toThrow(/one user/);
    expect(() => requireViewerAccess(bound, 'GET /v1/events', 'u-43')).toThrow(/one user/);
    expect(() => requireViewerAccess(bound, 'GET /v1/stats', undefined)).toThrow(/one user/);
  });
});

describe('the token authorizer with viewer tokens', () => {
  const event = (token: string): APIGatewayTokenAuthorizerEvent => ({
    type: 'TOKEN',
    authorizationToken: `Bearer ${token}`,
    methodArn: 'arn:aws:execute-api:eu-west-1:123456789012:abc123/prod/GET/v1/events',
  });
  const verify = async () => {
    throw new Error('an issuer token was expected');
  };
  const handler = createAuthorizerHandler({ verify, keyring: async () => keyring, now: () => NOW_S * 1000 });

  it('allows a valid viewer token with the viewer context, never through the issuer verifier', async () => {
    const token = mintViewerToken(keyring, { tenant: 'acme', userId: 'u-42', exp: NOW_S + 60 }, NOW_S);
    const out = await handler(event(token), lambdaContext());
    expect(out.context).toEqual({ tenant: 'acme', scopes: 'events:read', sub: '', clientId: '', viewer: 'true', viewerUser: 'u-42' });
  });

  it('answers Unauthorized to a forged or expired viewer token, and to any when no keys are configured', async () => {
    const token = mintViewerToken(keyring, { tenant: 'acme', exp: NOW_S + 60 }, NOW_S);
    const [h, , s] = parts(token);
    await expect(handler(event(`${h}.${b64({ ...payloadOf(token), tenant: 'globex' })}.${s}`), lambdaContext())).rejects.toThrow(
      'Unauthorized',
    );
    const expired = mintViewerToken(keyring, { tenant: 'acme', exp: NOW_S - 1 }, NOW_S - 61);
    await expect(handler(event(expired), lambdaContext())).rejects.toThrow('Unauthorized');
    const noKeys = createAuthorizerHandler({ verify });
    await expect(noKeys(event(token), lambdaContext())).rejects.toThrow('Unauthorized');
  });
});
