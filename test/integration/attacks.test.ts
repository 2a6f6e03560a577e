import { createHmac, createPublicKey, generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';
import { join } from 'node:path';
import { PUBLIC_ROUTES, ROUTE_SCOPES, SCOPES, VIEWER_ROUTES, type Route } from '../../contract';
import { loadOrCreateIssuerKeys, localIssuerUrl, prefixScopes, type IssuerKeys } from '@activity-tracker/local';
import { RESOURCE_SERVER_ID } from '../../lib/constructs/cognito-auth';
import { LOCAL_AUDIENCE } from '../../scripts/local';
import { REPO_ROOT, startLocalStack, synthOnce, type LocalStack } from './harness';
import { eventually, request, uniqueTenant, type HttpResult } from './http';

/**
 * Known attacks on the API, over real HTTP against the local stack (the synthesized template in
 * its default Cognito mode, the gateway's authorizer run from it, the bundled functions). Forged tokens are signed
 * with the local issuer's own key where the attack needs a valid signature, so each one fails
 * for the reason it tests. Every attack request is counted; the suite ends by asserting that
 * none was accepted, and prints the tally.
 */

// The contract's scope per route (ROUTE_SCOPES): a route in the template but not there fails the suite.
const ALL_SCOPES = SCOPES.join(' ');
/** Scopes as Cognito writes them (`activity-tracker/events:read`), which the gateway's authorizer asks for. */
const cognito = (scope: string): string => prefixScopes(scope, `${RESOURCE_SERVER_ID}/`);

let stack: LocalStack;
let keys: IssuerKeys;
let routes: string[];
let publicRoutes: string[];
const victim = uniqueTenant('victim');
const attacker = uniqueTenant('attacker');
let victimIds: string[] = [];
let victimErasureId: string | undefined;
let victimExportId: string | undefined;

let tried = 0;
let accepted = 0;

beforeAll(async () => {
  const outDir = await synthOnce(join(REPO_ROOT, 'cdk.out.test', 'default'));
  stack = await startLocalStack({ outDir });
  keys = loadOrCreateIssuerKeys();
  const all = stack.routes.map((r) => /^(\S+ \S+) → /.exec(r)?.[1] ?? r);
  // The public viewer module has its own attacks (below); every other route needs a token.
  routes = all.filter((r) => !PUBLIC_ROUTES.has(r));
  publicRoutes = all.filter((r) => PUBLIC_ROUTES.has(r));

  const posted = await request(stack.baseUrl, 'POST', '/v1/events', {
    token: validToken(victim),
    body: { events: [0, 1, 2].map((i) => ({ type: 'secret.viewed', userId: 'victim-user', occurredAt: `2026-11-01T00:0${i}:00Z` })) },
  });
  expect(posted.status).toBe(202);
  victimIds = posted.body.results.map((r: { id: string }) => r.id);
  await victimEvents(3);
  if (has('POST /v1/erasures')) {
    // An erasure of a user with no events, so the victim's events stay readable.
    const erasure = await request(stack.baseUrl, 'POST', '/v1/erasures', { token: validToken(victim), body: { userId: 'victim-nobody' } });
    expect(erasure.status).toBe(202);
    victimErasureId = erasure.body.id;
  }
  if (has('POST /v1/exports')) {
    const exported = await request(stack.baseUrl, 'POST', '/v1/exports', { token: validToken(victim), body: { format: 'ndjson' } });
    expect(exported.status).toBe(202);
    victimExportId = exported.body.id;
  }
}, 240_000);

afterAll(async () => {
  await stack?.stop();
});

// ---------------------------------------------------------------------------------------------
// Tokens

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** The claims of a good local token, with overrides (`undefined` removes a claim). */
const claims = (tenant: string, scope = cognito(ALL_SCOPES), extra: Record<string, unknown> = {}): Record<string, unknown> => {
  const now = nowSeconds();
  return {
    iss: localIssuerUrl(stack.port),
    sub: 'attacker',
    aud: LOCAL_AUDIENCE,
    iat: now,
    nbf: now,
    exp: now + 600,
    jti: randomUUID(),
    token_use: 'access',
    tenant_id: tenant,
    scope,
    ...extra,
  };
};

/** An RS-signed token; by default exactly what the local issuer would sign. */
const signed = (
  payload: Record<string, unknown>,
  { header = {}, key = keys.privateKey, hash = 'sha256' }: { header?: Record<string, unknown>; key?: KeyObject; hash?: string } = {},
): string => {
  const input = `${b64({ alg: 'RS256', typ: 'JWT', kid: keys.jwk.kid, ...header })}.${b64(payload)}`;
  return `${input}.${sign(hash, Buffer.from(input), key).toString('base64url')}`;
};

const validToken = (tenant: string, scope = ALL_SCOPES): string => signed(claims(tenant, cognito(scope)));

const attackerKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;
const attackerJwk = { ...createPublicKey(attackerKey).export({ format: 'jwk' }), kid: 'attacker', alg: 'RS256', use: 'sig' };

/**
 * Tokens that must all be refused with 401, each named by its attack. A wrong audience and a
 * lifetime above the cap are OIDC checks (the token authorizer's, test/unit/adapters/
 * jwt-authenticator.test.ts): in Cognito mode only the user pool signs, and it sets neither.
 */
const forgedTokens = (): [string, string][] => {
  const good = claims(victim);
  const goodToken = signed(good);
  const [goodHeader, , goodSignature] = goodToken.split('.') as [string, string, string];
  const readOnly = claims(victim, cognito('events:read'));
  const [readHeader, , readSignature] = signed(readOnly).split('.') as [string, string, string];
  const publicPem = createPublicKey(keys.privateKey).export({ format: 'pem', type: 'spki' }) as string;
  const hs256 = (secret: string | Buffer) => {
    const input = `${b64({ alg: 'HS256', typ: 'JWT', kid: keys.jwk.kid })}.${b64(good)}`;
    return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
  };
  const unsigned = (alg: string, signature = '') => `${b64({ alg, typ: 'JWT', kid: keys.jwk.kid })}.${b64(good)}.${signature}`;
  return [
    ['garbage', 'garbage'],
    ['three segments of garbage', 'abc.def.ghi'],
    ['alg none', unsigned('none')],
    ['alg None', unsigned('None')],
    ['alg NONE', unsigned('NONE')],
    ['alg nOnE', unsigned('nOnE')],
    ['alg none keeping a real signature', unsigned('none', goodSignature)],
    ['HS256 keyed with the RSA public key (PEM)', hs256(publicPem)],
    ['HS256 keyed with the JWKS modulus', hs256(Buffer.from(keys.jwk.n, 'base64url'))],
    ['RS384, signed by the issuer key', signed(good, { header: { alg: 'RS384' }, hash: 'sha384' })],
    ['kid path injection', signed(good, { header: { kid: '../../../../../dev/null' }, key: attackerKey })],
    ['kid SQL injection', signed(good, { header: { kid: "x' OR '1'='1" }, key: attackerKey })],
    ['kid of the issuer, signed by another key', signed(good, { key: attackerKey })],
    [
      'jku pointing at the attacker JWKS',
      signed(good, { header: { kid: 'attacker', jku: 'https://attacker.example/jwks.json' }, key: attackerKey }),
    ],
    ['embedded jwk of the attacker', signed(good, { header: { kid: 'attacker', jwk: attackerJwk }, key: attackerKey })],
    ['payload edited after signing (tenant swapped)', `${goodHeader}.${b64({ ...good, tenant_id: attacker })}.${goodSignature}`],
    ['payload edited after signing (scope raised)', `${readHeader}.${b64({ ...readOnly, scope: cognito(ALL_SCOPES) })}.${readSignature}`],
    [
      'an expired token',
      signed(claims(victim, ALL_SCOPES, { iat: nowSeconds() - 7200, nbf: nowSeconds() - 7200, exp: nowSeconds() - 3600 })),
    ],
    ['nbf in the future', signed(claims(victim, ALL_SCOPES, { nbf: nowSeconds() + 3600, exp: nowSeconds() + 7200 }))],
    ['no exp', signed(claims(victim, ALL_SCOPES, { exp: undefined }))],
    ['a wrong issuer', signed(claims(victim, ALL_SCOPES, { iss: 'https://issuer.attacker.example' }))],
    ['no tenant claim', signed(claims(victim, ALL_SCOPES, { tenant_id: undefined }))],
    ['a tenant claim with a key separator', signed(claims(`${victim}#0`))],
    ['a tenant claim of 65 characters', signed(claims('t'.repeat(65)))],
    ['an empty tenant claim', signed(claims(''))],
    ['a tenant claim that is an array', signed(claims(victim, undefined, { tenant_id: [victim] }))],
    ['an ID token (token_use id)', signed(claims(victim, undefined, { token_use: 'id' }))],
  ];
};

// ---------------------------------------------------------------------------------------------
// Requests

const has = (route: string): boolean => routes.includes(route);

/** A concrete request for a route: path parameters and a body a real client would send. */
const requestFor = (route: string): { method: string; path: string; body?: unknown } => {
  const [method, template] = route.split(' ') as [string, string];
  const id = template.startsWith('/v1/erasures')
    ? (victimErasureId ?? 'unknown-erasure')
    : template.startsWith('/v1/exports')
      ? (victimExportId ?? 'unknown-export')
      : (victimIds[0] as string);
  const path = template.replace('{id}', encodeURIComponent(id));
  const body =
    route === 'POST /v1/events'
      ? { type: 'forged.event', userId: 'victim-user' }
      : route === 'POST /v1/erasures'
        ? { userId: 'victim-user' }
        : route === 'POST /v1/exports'
          ? { format: 'ndjson', userId: 'victim-user' }
          : route === 'POST /v1/viewer-sessions'
            ? { ttlSeconds: 3600 }
            : undefined;
  return { method, path, ...(body !== undefined && { body }) };
};

/**
 * Sends one attack and counts it: it is accepted when the answer is not the expected refusal, or
 * when `defeated` (checked after the answer) says the attack got what it wanted.
 */
const attack = async (
  name: string,
  method: string,
  path: string,
  options: Parameters<typeof request>[3],
  expectedStatus: number,
  defeated: (res: HttpResult) => boolean | Promise<boolean> = () => true,
): Promise<HttpResult> => {
  const res = await request(stack.baseUrl, method, path, options);
  tried += 1;
  const ok = res.status === expectedStatus && (await defeated(res));
  if (!ok) accepted += 1;
  expect({ attack: name, route: `${method} ${path}`, status: res.status }).toEqual({
    attack: name,
    route: `${method} ${path}`,
    status: expectedStatus,
  });
  return res;
};

const listAs = (tenant: string, query = '') => request(stack.baseUrl, 'GET', `/v1/events${query}`, { token: validToken(tenant) });

/**
 * Waits until the victim's timeline holds `count` events of its own, and returns them: the audit
 * records of the setup's own requests (erasure, export: `activity-tracker.*`) are left out.
 */
const victimEvents = async (count: number) =>
  eventually(
    async () => {
      const res = await listAs(victim, '?limit=1000');
      if (res.status !== 200) return undefined;
      const own = (res.body.events as { id: string; type: string }[]).filter((e) => !e.type.startsWith('activity-tracker.'));
      return own.length === count ? own : undefined;
    },
    20_000,
    `${count} events of the victim`,
  );

// ---------------------------------------------------------------------------------------------

describe('attacks over HTTP', () => {
  it('covers every route of the template with the contract scope table', () => {
    expect(routes.length).toBeGreaterThanOrEqual(3);
    expect(routes.filter((route) => !(route in ROUTE_SCOPES))).toEqual([]);
    expect(publicRoutes).toEqual([...PUBLIC_ROUTES]);
    const absent = Object.keys(ROUTE_SCOPES).filter((route) => !has(route));
    // Not silent: routes of the contract that this build does not deploy yet are named.
    if (absent.length > 0) console.log(`attacks: routes of the contract not in the template yet (not attacked): ${absent.join(', ')}`);
  });

  it('refuses a request without a token with 401 and WWW-Authenticate, on every route', async () => {
    for (const route of routes) {
      const { method, path, body } = requestFor(route);
      const res = await attack('no token', method, path, { body }, 401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(res.body.error.code).toBe('unauthorized');
    }
  });

  it('refuses a token not sent as a Bearer header (Basic, query string, cookie) with 401, on every route', async () => {
    const token = validToken(victim);
    for (const route of routes) {
      const { method, path, body } = requestFor(route);
      await attack(
        'Basic scheme',
        method,
        path,
        { body, headers: { authorization: `Basic ${Buffer.from(`${victim}:x`).toString('base64')}` } },
        401,
      );
      await attack('token in the query string', method, `${path}${path.includes('?') ? '&' : '?'}access_token=${token}`, { body }, 401);
      await attack('token in a cookie', method, path, { body, headers: { cookie: `token=${token}` } }, 401);
    }
  });

  it('refuses garbage, alg none (any casing), HS256 keyed with the RSA public key, kid injection, edited payloads, expired, early, wrong-issuer, ID and tenant-less tokens with 401, on every route', async () => {
    const tokens = forgedTokens();
    for (const route of routes) {
      const { method, path, body } = requestFor(route);
      for (const [name, token] of tokens) {
        const res = await attack(name, method, path, { body, headers: { authorization: `Bearer ${token}` } }, 401);
        expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
      }
    }
    // Nothing forged reached the victim's timeline.
    expect((await victimEvents(3)).map((e) => e.type)).toEqual(['secret.viewed', 'secret.viewed', 'secret.viewed']);
  });

  it('answers 403 to a valid token without the scope of the route (read, write, delete, erase)', async () => {
    for (const route of routes) {
      const scope = ROUTE_SCOPES[route as Route];
      const others = ALL_SCOPES.split(' ')
        .filter((s) => s !== scope)
        .join(' ');
      const { method, path, body } = requestFor(route);
      const res = await attack(`missing ${scope}`, method, path, { token: validToken(victim, others), body }, 403);
      expect(res.body.error).toEqual({ code: 'forbidden', message: `this route needs the scope '${scope}'` });
      // Changed with gateway authentication: a token with none of the API's scopes is the Cognito
      // authorizer's to refuse, and API Gateway answers that 401 (it was a 403 from the function).
      await attack(`no scope at all for ${scope}`, method, path, { token: validToken(victim, ''), body }, 401);
      // The bare scope (as an OIDC issuer writes it) is not the Cognito scope `activity-tracker/...`.
      await attack(`unprefixed ${scope}`, method, path, { token: signed(claims(victim, scope)), body }, 401);
    }
  });

  it('answers missing, forged, expired and ID tokens at the gateway: no function runs', async () => {
    const routeFunctions = new Set(stack.routes.map((r) => /→ (\S+)$/.exec(r)?.[1]).filter((f): f is string => f !== undefined));
    const invocations = async () => {
      const { functions } = await stack.stats();
      return Object.entries(functions)
        .filter(([id]) => routeFunctions.has(id))
        .reduce((sum, [, s]) => sum + s.invocations, 0);
    };
    const before = await invocations();
    const atGateway: [string, string | undefined][] = [
      ['no token', undefined],
      ['garbage', 'Bearer garbage'],
      ['another key', `Bearer ${signed(claims(victim), { key: attackerKey })}`],
      ['alg none', `Bearer ${b64({ alg: 'none', kid: keys.jwk.kid })}.${b64(claims(victim))}.`],
      ['expired', `Bearer ${signed(claims(victim, undefined, { iat: nowSeconds() - 7200, exp: nowSeconds() - 3600 }))}`],
      ['an ID token', `Bearer ${signed(claims(victim, undefined, { token_use: 'id' }))}`],
      ['a wrong issuer', `Bearer ${signed(claims(victim, undefined, { iss: 'https://issuer.attacker.example' }))}`],
    ];
    for (const route of routes) {
      const { method, path, body } = requestFor(route);
      for (const [name, authorization] of atGateway) {
        const res = await attack(`${name} (at the gateway)`, method, path, { body, headers: authorization ? { authorization } : {} }, 401);
        // The gateway's own answer: API Gateway's error type header, the API's error shape.
        expect(res.headers.get('x-amzn-errortype')).toBe('UNAUTHORIZED');
        expect(res.body.error.code).toBe('unauthorized');
      }
    }
    expect(await invocations()).toBe(before);
  });

  describe('tenant isolation', () => {
    it('ignores a tenant sent in the query string of POST, and refuses one in the query of GET with 400', async () => {
      const marker = `query-override-${randomUUID().slice(0, 8)}`;
      await attack(
        'tenant in the query (POST)',
        'POST',
        `/v1/events?tenant_id=${victim}&tenantId=${victim}&tenant=${victim}`,
        {
          token: validToken(attacker),
          body: { type: 'override.attempt', userId: marker },
        },
        202,
        async () => landedWithAttackerOnly(marker),
      );
      for (const param of ['tenant_id', 'tenantId', 'tenant']) {
        const res = await attack(
          `tenant in the query (GET ${param})`,
          'GET',
          `/v1/events?${param}=${victim}`,
          { token: validToken(attacker) },
          400,
        );
        expect(res.body.error.code).toBe('unknown_parameter');
      }
    });

    it('ignores a tenant sent in headers: the event lands in the token tenant, and reads show only its events', async () => {
      const headers = { 'x-tenant-id': victim, 'x-tenant': victim, tenant: victim, 'tenant-id': victim, 'x-amzn-tenant-id': victim };
      const marker = `header-override-${randomUUID().slice(0, 8)}`;
      await attack(
        'tenant in headers (POST)',
        'POST',
        '/v1/events',
        { token: validToken(attacker), headers, body: { type: 'override.attempt', userId: marker } },
        202,
        async () => landedWithAttackerOnly(marker),
      );
      await attack('tenant in headers (GET list)', 'GET', '/v1/events?limit=1000', { token: validToken(attacker), headers }, 200, (res) =>
        (res.body.events as { id: string }[]).every((e) => !victimIds.includes(e.id)),
      );
      await attack('tenant in headers (GET id)', 'GET', `/v1/events/${victimIds[0]}`, { token: validToken(attacker), headers }, 404);
    });

    it('refuses a tenant, or any server-set field, in the body (mass assignment) with 400', async () => {
      const token = validToken(attacker);
      for (const field of ['tenantId', 'tenant', 'tenant_id']) {
        await attack(
          `${field} in a single event`,
          'POST',
          '/v1/events',
          { token, body: { type: 'override.attempt', userId: 'u', [field]: victim } },
          400,
        );
      }
      for (const field of ['id', 'receivedAt', 'deletedAt', 'source']) {
        await attack(
          `${field} in a single event`,
          'POST',
          '/v1/events',
          { token, body: { type: 'override.attempt', userId: 'u', [field]: 'x' } },
          400,
        );
      }
      await attack(
        'tenantId beside the batch',
        'POST',
        '/v1/events',
        { token, body: { tenantId: victim, events: [{ type: 'override.attempt', userId: 'u' }] } },
        400,
      );
      const res = await attack(
        'tenantId inside a batched event',
        'POST',
        '/v1/events',
        { token, body: { events: [{ type: 'override.attempt', userId: 'u', tenantId: victim }] } },
        202,
        (r) => r.body.accepted === 0 && r.body.results[0]?.error?.code === 'forbidden_field',
      );
      expect(res.body.results[0].error.code).toBe('forbidden_field');
      if (has('POST /v1/erasures')) {
        await attack(
          'tenantId in an erasure request',
          'POST',
          '/v1/erasures',
          { token: validToken(attacker), body: { userId: 'victim-user', tenantId: victim } },
          400,
        );
      }
      expect((await victimEvents(3)).map((e) => e.type)).toEqual(['secret.viewed', 'secret.viewed', 'secret.viewed']);
    });

    it("answers 404 for another tenant's public id, without a hint that it exists (GET, DELETE, restore)", async () => {
      const token = validToken(attacker);
      const unknown = await request(
        stack.baseUrl,
        'GET',
        `/v1/events/${victimIds[0]!.slice(0, -2)}${victimIds[0]!.endsWith('AA') ? 'BB' : 'AA'}`,
        { token },
      );
      for (const id of victimIds) {
        const res = await attack("another tenant's id (GET)", 'GET', `/v1/events/${id}`, { token }, 404);
        expect(res.text).not.toContain(victim);
        // Same answer as for an id that does not exist at all.
        expect(res.body).toEqual(unknown.body);
      }
      if (has('DELETE /v1/events/{id}'))
        await attack("another tenant's id (DELETE)", 'DELETE', `/v1/events/${victimIds[1]}`, { token }, 404);
      if (has('POST /v1/events/{id}/restore'))
        await attack("another tenant's id (restore)", 'POST', `/v1/events/${victimIds[1]}/restore`, { token }, 404);
      if (has('GET /v1/erasures/{id}') && victimErasureId)
        await attack("another tenant's erasure id", 'GET', `/v1/erasures/${victimErasureId}`, { token }, 404);
      // The victim still has every event.
      for (const id of victimIds)
        expect((await request(stack.baseUrl, 'GET', `/v1/events/${id}`, { token: validToken(victim) })).status).toBe(200);
    });

    it("never counts another tenant's events in GET /v1/stats, and refuses a tenant in its query with 400", async () => {
      if (!has('GET /v1/stats')) return;
      const range = `from=${new Date(Date.now() - 40 * 86_400_000).toISOString().slice(0, 10)}T00:00:00Z&to=${new Date(Date.now() + 86_400_000).toISOString().slice(0, 10)}T00:00:00Z`;
      for (const param of ['tenant_id', 'tenantId', 'tenant']) {
        const res = await attack(
          `tenant in the query (GET /v1/stats ${param})`,
          'GET',
          `/v1/stats?${range}&${param}=${victim}`,
          { token: validToken(attacker) },
          400,
        );
        expect(res.body.error.code).toBe('invalid_query');
      }
      const fresh = `stats-attacker-${randomUUID().slice(0, 8)}`;
      await attack(
        "another tenant's counts",
        'GET',
        `/v1/stats?${range}&groupBy=type`,
        { token: validToken(fresh) },
        200,
        (res) => res.body.total === 0,
      );
    });

    it("refuses another tenant's cursor, and a cursor reused with a different filter, with 400", async () => {
      const page = await listAs(victim, '?limit=1');
      const cursor = page.body.nextCursor as string;
      expect(cursor).toEqual(expect.any(String));
      const token = validToken(attacker);
      const other = await attack(
        "another tenant's cursor",
        'GET',
        `/v1/events?limit=1&cursor=${encodeURIComponent(cursor)}`,
        { token },
        400,
      );
      expect(other.body.error.code).toBe('invalid_cursor');
      for (const filter of [
        '&type=secret.viewed',
        '&userId=victim-user',
        '&order=asc',
        '&details.k=v',
        `&from=${encodeURIComponent('2026-01-01T00:00:00Z')}`,
      ]) {
        const query = `?limit=1${filter}&cursor=${encodeURIComponent(cursor)}`;
        const res = await attack(
          `cursor reused with ${decodeURIComponent(filter.slice(1))}`,
          'GET',
          `/v1/events${query}`,
          { token: validToken(victim) },
          400,
        );
        expect(res.body.error.code).toBe('invalid_cursor');
      }
      // Control: the cursor works for its tenant and filter.
      expect((await listAs(victim, `?limit=1&cursor=${encodeURIComponent(cursor)}`)).status).toBe(200);
    });
  });

  describe('exports and viewer tokens', () => {
    it("answers 404 for another tenant's export id", async () => {
      await attack("another tenant's export", 'GET', `/v1/exports/${victimExportId}`, { token: validToken(attacker) }, 404);
    });

    it('refuses a viewer token (even one minted with the widest grant) on every route a viewer may not use', async () => {
      const session = await request(stack.baseUrl, 'POST', '/v1/viewer-sessions', {
        token: validToken(victim),
        body: { ttlSeconds: 3600 },
      });
      expect(session.status).toBe(201);
      const viewer = session.body.token as string;
      for (const route of routes.filter((r) => !VIEWER_ROUTES.has(r))) {
        const { method, path, body } = requestFor(route);
        // In Cognito mode the gateway's Cognito authorizer verifies every token: a viewer token is
        // refused there (401); in OIDC mode the token authorizer passes it and the function answers 403.
        await attack(`viewer token on ${route}`, method, path, { token: viewer, ...(body !== undefined && { body }) }, 401);
      }
    });

    it('refuses a viewer token edited after minting (tenant swapped, user dropped, lifetime raised) with 401', async () => {
      const session = await request(stack.baseUrl, 'POST', '/v1/viewer-sessions', {
        token: validToken(victim),
        body: { userId: 'victim-user', ttlSeconds: 60 },
      });
      const [header, payload, signature] = (session.body.token as string).split('.') as [string, string, string];
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
      for (const [name, edited] of [
        ['tenant swapped', { ...claims, tenant: attacker }],
        ['user dropped', { ...claims, usr: undefined }],
        ['lifetime raised', { ...claims, exp: claims.exp + 86_400 }],
      ] as const) {
        await attack(`viewer token, ${name}`, 'GET', '/v1/events', { token: `${header}.${b64(edited)}.${signature}` }, 401);
      }
    });
  });

  describe('the public viewer module (GET /viewer/{file}, no authorizer)', () => {
    const notTheModule = (res: HttpResult) => !res.text.includes('customElements.define');
    it('serves nothing but its module: traversal, other files and encodings get 404', async () => {
      for (const path of [
        '/viewer/..%2F..%2Fetc%2Fpasswd',
        '/viewer/..%2Fv1%2Fevents',
        '/viewer/%2e%2e%2fpackage.json',
        '/viewer/activity-log.js%00.png',
        '/viewer/activity-log.JS',
        '/viewer/activity-log.js.map',
        '/viewer/index.html',
        '/viewer/activity-log.ffffffffffff.js',
      ]) {
        await attack(`viewer file ${path}`, 'GET', path, {}, 404, notTheModule);
      }
      // Deeper paths and other methods are no route at all (the gateway's 404).
      await attack('viewer sub-path', 'GET', '/viewer/x/activity-log.js', {}, 404, notTheModule);
      for (const method of ['POST', 'PUT', 'DELETE']) {
        await attack(`${method} on the viewer module`, method, '/viewer/activity-log.js', { body: { x: 1 } }, 404, notTheModule);
      }
    });

    it('answers the same public, credential-free file with or without a token (no cookie, no data)', async () => {
      const anonymous = await request(stack.baseUrl, 'GET', '/viewer/activity-log.js');
      const withToken = await request(stack.baseUrl, 'GET', '/viewer/activity-log.js', { token: validToken(victim) });
      for (const res of [anonymous, withToken]) {
        expect(res.status).toBe(200);
        expect(res.headers.get('set-cookie')).toBeNull();
        expect(res.headers.get('access-control-allow-credentials')).toBeNull();
        expect(res.headers.get('x-content-type-options')).toBe('nosniff');
        expect(res.text).not.toContain(victim);
      }
      expect(withToken.text).toBe(anonymous.text);
    });
  });

  describe('viewer tokens on the read routes (Cognito mode: the reads run a token authorizer)', () => {
    const viewerFor = async (userId?: string): Promise<string> => {
      const session = await request(stack.baseUrl, 'POST', '/v1/viewer-sessions', {
        token: validToken(victim),
        body: { ttlSeconds: 60, ...(userId !== undefined && { userId }) },
      });
      expect(session.status).toBe(201);
      return session.body.token as string;
    };

    it("reads its own user's events and stats, and is refused another user's or the whole tenant's", async () => {
      const viewer = await viewerFor('victim-user');
      // Control: the viewer reads what it was minted for.
      const own = await request(stack.baseUrl, 'GET', '/v1/events?userId=victim-user', { token: viewer });
      expect(own.status).toBe(200);
      expect(own.body.events.length).toBe(3);
      for (const query of ['', '?userId=someone-else', '?type=secret.viewed']) {
        await attack(`user-bound viewer token, GET /v1/events${query}`, 'GET', `/v1/events${query}`, { token: viewer }, 403);
      }
      if (has('GET /v1/stats')) {
        await attack('user-bound viewer token, stats of another user', 'GET', '/v1/stats?userId=someone-else', { token: viewer }, 403);
      }
    });

    it('reads only its own tenant: the tenant comes from the signed token, never from the request', async () => {
      const viewer = await viewerFor();
      // Only the victim's own events, as its pool token reads them (listed after, so an audit record
      // landing in between is in both): nothing of the attacker's.
      await attack(
        'tenant-wide viewer token, events of another tenant',
        'GET',
        '/v1/events?limit=100',
        { token: viewer },
        200,
        async (res) => {
          const own = new Set((await listAs(victim, '?limit=100')).body.events.map((e: { id: string }) => e.id));
          const seen: string[] = res.body.events.map((e: { id: string }) => e.id);
          return seen.length >= 3 && seen.every((id) => own.has(id));
        },
      );
    });

    it("refuses a pool token holding none of the API's scopes on the reads, as the Cognito authorizer does", async () => {
      const other = signed(claims(victim, 'other-api/events:read'));
      for (const path of ['/v1/events', `/v1/events/${victimIds[0]}`]) {
        await attack('a token with another API scope only', 'GET', path, { token: other }, 401);
      }
    });
  });

  it('accepted none of the attacks', () => {
    console.log(`attacks tried ${tried}, accepted ${accepted}`);
    expect(tried).toBeGreaterThan(0);
    expect(accepted).toBe(0);
  });
});

/** True once the marker event is readable by the attacker, and never by the victim. */
const landedWithAttackerOnly = async (marker: string): Promise<boolean> => {
  await eventually(
    async () => {
      const res = await listAs(attacker, `?userId=${encodeURIComponent(marker)}`);
      return res.status === 200 && res.body.events.length === 1 ? true : undefined;
    },
    20_000,
    `the ${marker} event in the attacker's timeline`,
  );
  const victimView = await listAs(victim, `?userId=${encodeURIComponent(marker)}`);
  return victimView.status === 200 && victimView.body.events.length === 0;
};
