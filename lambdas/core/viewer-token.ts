import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { LIMITS, TENANT_PATTERN, VIEWER_LIMITS } from '../../contract';
import { BadRequestError, UnsupportedMediaTypeError } from './errors';
import { canonicalId, isWellFormedText } from './json-bounds';
import type { Keyring } from './keyring';

/**
 * Viewer tokens: short-lived, read-only tokens for the embedded viewer (`<activity-log>`), minted
 * by POST /v1/viewer-sessions for the caller's tenant and, optionally, one user.
 *
 * A JWT in shape (so the gateway's `Bearer <JWT>` check lets it through to the authorizer), signed
 * with HMAC-SHA256 under a key derived from the stack's keys secret (kid = key version), with its
 * own `typ`. The issuer's tokens are RS256/ES256 only, so neither kind passes for the other: a
 * viewer token is never verified as an issuer token, and an issuer token (or `alg:none`, or an
 * HS256 token signed with the issuer's public key) never verifies as a viewer token. What a viewer
 * may do is not in the token: the authorizer gives it `events:read` and the viewer flag, and the
 * functions open only VIEWER_ROUTES to it (contract/scopes.ts).
 */
export const VIEWER_TOKEN_TYPE = 'viewer+jwt';
const VIEWER_ISSUER = 'activity-tracker/viewer';

export interface ViewerGrant {
  readonly tenant: string;
  /** The one user whose events the token may read; undefined: the whole tenant. */
  readonly userId?: string;
  /** Expiry, epoch seconds. */
  readonly exp: number;
}

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');

const sign = (key: Buffer, signingInput: string): Buffer => createHmac('sha256', key).update(signingInput).digest();

export const mintViewerToken = (keyring: Keyring, grant: ViewerGrant, nowSeconds: number): string => {
  const key = keyring.current;
  const header = b64({ alg: 'HS256', typ: VIEWER_TOKEN_TYPE, kid: String(key.version) });
  const payload = b64({
    iss: VIEWER_ISSUER,
    tenant: grant.tenant,
    ...(grant.userId !== undefined && { usr: grant.userId }),
    iat: nowSeconds,
    exp: grant.exp,
    jti: randomBytes(12).toString('base64url'),
  });
  return `${header}.${payload}.${sign(key.viewerMac, `${header}.${payload}`).toString('base64url')}`;
};

const decodeJson = (part: string | undefined): Record<string, unknown> | undefined => {
  if (part === undefined || !/^[A-Za-z0-9_-]+$/.test(part)) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
};

/** Whether a bearer token claims to be a viewer token (its header's `typ`); says nothing about its validity. */
export const isViewerToken = (token: string): boolean => decodeJson(token.split('.')[0])?.typ === VIEWER_TOKEN_TYPE;

/** The grant of a valid viewer token; throws with the reason otherwise (the authorizer answers 401). */
export const verifyViewerToken = (keyring: Keyring, token: string, nowSeconds: number): ViewerGrant => {
  const parts = token.split('.');
  if (parts.length !== 3) throw new Error('malformed viewer token');
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  const header = decodeJson(headerPart);
  if (header?.alg !== 'HS256' || header.typ !== VIEWER_TOKEN_TYPE || typeof header.kid !== 'string' || !/^\d{1,3}$/.test(header.kid)) {
    throw new Error('viewer token header not accepted');
  }
  const key = keyring.get(Number(header.kid));
  if (!key) throw new Error('viewer token key version unknown');
  const expected = sign(key.viewerMac, `${headerPart}.${payloadPart}`);
  const given = /^[A-Za-z0-9_-]+$/.test(signaturePart) ? Buffer.from(signaturePart, 'base64url') : Buffer.alloc(0);
  if (given.length !== expected.length || !timingSafeEqual(given, expected) || given.toString('base64url') !== signaturePart) {
    throw new Error('viewer token signature invalid');
  }
  const payload = decodeJson(payloadPart);
  if (!payload || payload.iss !== VIEWER_ISSUER) throw new Error('viewer token payload not accepted');
  const { tenant, usr, exp, iat } = payload;
  if (typeof tenant !== 'string' || !TENANT_PATTERN.test(tenant)) throw new Error('viewer token has no valid tenant');
  if (typeof exp !== 'number' || typeof iat !== 'number' || exp <= nowSeconds) throw new Error('viewer token expired');
  if (exp - iat > VIEWER_LIMITS.maxTtlSeconds) throw new Error('viewer token lifetime above the maximum');
  if (usr !== undefined && typeof usr !== 'string') throw new Error('viewer token user not valid');
  return { tenant, exp, ...(usr !== undefined && { userId: usr }) };
};

const FIELDS: ReadonlySet<string> = new Set(['userId', 'ttlSeconds']);

/** The body of POST /v1/viewer-sessions (may be empty): `{"userId"?, "ttlSeconds"?}`. */
export const parseViewerSessionRequest = (
  body: string | null | undefined,
  contentType: string | undefined,
): { userId?: string; ttlSeconds: number } => {
  if (body === undefined || body === null || body === '') return { ttlSeconds: VIEWER_LIMITS.defaultTtlSeconds };
  if (!contentType || !/^application\/(?:[\w.+-]+\+)?json\s*(?:;|$)/i.test(contentType)) throw new UnsupportedMediaTypeError();
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    throw new BadRequestError('invalid_json', 'the body is not valid JSON');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new BadRequestError('invalid_body', 'the body must be {"userId"?: string, "ttlSeconds"?: number}');
  }
  const record = parsed as Record<string, unknown>;
  const unknown = Object.keys(record).find((key) => !FIELDS.has(key));
  if (unknown !== undefined) throw new BadRequestError('unknown_field', `unknown field '${unknown.slice(0, 64)}'`);
  const { min, max } = { min: VIEWER_LIMITS.minTtlSeconds, max: VIEWER_LIMITS.maxTtlSeconds };
  const ttl = record.ttlSeconds ?? VIEWER_LIMITS.defaultTtlSeconds;
  if (typeof ttl !== 'number' || !Number.isInteger(ttl) || ttl < min || ttl > max) {
    throw new BadRequestError('invalid_parameter', `'ttlSeconds' must be an integer from ${min} to ${max}`);
  }
  if (record.userId === undefined) return { ttlSeconds: ttl };
  const raw = record.userId;
  const userId = typeof raw === 'string' && isWellFormedText(raw) ? canonicalId(raw) : undefined;
  if (userId === undefined || userId.length < 1 || userId.length > LIMITS.maxUserIdLength) {
    throw new BadRequestError('userId_invalid', `'userId' must be a string of 1-${LIMITS.maxUserIdLength} characters`);
  }
  return { userId, ttlSeconds: ttl };
};

/** POST /v1/viewer-sessions for the caller's tenant. */
export const createViewerSession = (
  tenant: string,
  request: { body: string | null | undefined; contentType: string | undefined },
  deps: { keyring: Keyring; now?: () => number },
): { token: string; expiresAt: string } => {
  const { userId, ttlSeconds } = parseViewerSessionRequest(request.body, request.contentType);
  const nowSeconds = Math.floor((deps.now?.() ?? Date.now()) / 1000);
  const exp = nowSeconds + ttlSeconds;
  const token = mintViewerToken(deps.keyring, { tenant, exp, ...(userId !== undefined && { userId }) }, nowSeconds);
  return { token, expiresAt: new Date(exp * 1000).toISOString() };
};
