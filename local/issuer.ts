/**
 * The local JWT issuer: one RSA key pair kept under .local/keys (git-ignored), its JWKS, and
 * RS256 tokens the stack's functions verify with aws-jwt-verify like any other issuer's.
 * node:crypto only.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, randomUUID, sign, type KeyObject } from 'node:crypto';
import { chmodSync, linkSync, mkdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

/** The git-ignored state folder, `.local` under the directory the app's commands run from. */
export const DEFAULT_STATE_DIR = resolve('.local');
/** `aud` of local tokens unless the app sets its own (startLocal's `issuer.audience`). */
export const DEFAULT_AUDIENCE = 'local';
export const DEFAULT_TENANT_CLAIM = 'tenant_id';
export const DEFAULT_PORT = 3000;

export const localIssuerUrl = (port: number) => `http://127.0.0.1:${port}/_local/issuer`;
export const localJwksUrl = (port: number) => `http://127.0.0.1:${port}/_local/jwks.json`;

export interface PublicJwk {
  readonly kty: 'RSA';
  readonly n: string;
  readonly e: string;
  readonly kid: string;
  readonly alg: 'RS256';
  readonly use: 'sig';
}

export interface IssuerKeys {
  readonly privateKey: KeyObject;
  readonly jwk: PublicJwk;
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

/** RFC 7638 thumbprint of an RSA public key (members e, kty, n in lexicographic order). */
export const jwkThumbprint = (jwk: { e: string; n: string }) =>
  b64url(
    createHash('sha256')
      .update(JSON.stringify({ e: jwk.e, kty: 'RSA', n: jwk.n }))
      .digest(),
  );

const keysFromPrivatePem = (pem: string): IssuerKeys => {
  const privateKey = createPrivateKey(pem);
  const pub = createPublicKey(privateKey).export({ format: 'jwk' }) as { n?: string; e?: string; kty?: string };
  if (pub.kty !== 'RSA' || !pub.n || !pub.e) throw new Error('The local issuer key is not an RSA key');
  return { privateKey, jwk: { kty: 'RSA', n: pub.n, e: pub.e, kid: jwkThumbprint({ n: pub.n, e: pub.e }), alg: 'RS256', use: 'sig' } };
};

/**
 * Loads the issuer key pair from `<stateDir>/keys`, creating it (RSA 2048, mode 0600) the first
 * time. Safe when the runner and the token CLI start at once: the file appears atomically.
 */
export const loadOrCreateIssuerKeys = (stateDir: string = DEFAULT_STATE_DIR): IssuerKeys => {
  const dir = join(stateDir, 'keys');
  const file = join(dir, 'issuer-private.pem');
  try {
    return keysFromPrivatePem(readFileSync(file, 'utf8'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const pem = privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;
  const tmp = `${file}.${process.pid}.${randomUUID()}.tmp`;
  writeFileSync(tmp, pem, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  try {
    linkSync(tmp, file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  } finally {
    unlinkSync(tmp);
  }
  return keysFromPrivatePem(readFileSync(file, 'utf8'));
};

export const jwksDocument = (keys: IssuerKeys) => ({ keys: [keys.jwk] });

export interface TokenOptions {
  readonly tenant: string;
  /** Space-separated scopes, e.g. "events:write events:read". */
  readonly scope: string;
  /** @default "local-user" */
  readonly sub?: string;
  /** Lifetime in seconds. @default 3600 */
  readonly ttlSeconds?: number;
  /** @default "local" (DEFAULT_AUDIENCE) */
  readonly aud?: string;
  /** Port of the local runner, part of the issuer URL. @default 3000 */
  readonly port?: number;
  /** @default "tenant_id" */
  readonly tenantClaim?: string;
  /** Extra or overriding claims (for tests of rejected tokens). */
  readonly claims?: Record<string, unknown>;
  /** Clock, for tests. */
  readonly now?: Date;
}

/** Signs an RS256 token for the local issuer. */
export const signToken = (keys: IssuerKeys, opts: TokenOptions): string => {
  const iat = Math.floor((opts.now ?? new Date()).getTime() / 1000);
  const ttl = opts.ttlSeconds ?? 3600;
  if (!Number.isInteger(ttl)) throw new Error('ttl must be an integer number of seconds');
  // An access token by RFC 9068, as the functions require of an OIDC issuer by default.
  const header = { alg: 'RS256', typ: 'at+jwt', kid: keys.jwk.kid };
  const payload = {
    iss: localIssuerUrl(opts.port ?? DEFAULT_PORT),
    sub: opts.sub ?? 'local-user',
    aud: opts.aud ?? DEFAULT_AUDIENCE,
    iat,
    nbf: iat,
    exp: iat + ttl,
    jti: randomUUID(),
    // As in a Cognito access token: the default (Cognito) template makes the functions require it.
    token_use: 'access',
    client_id: 'local-client',
    [opts.tenantClaim ?? DEFAULT_TENANT_CLAIM]: opts.tenant,
    scope: opts.scope,
    ...opts.claims,
  };
  const signingInput = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  const signature = sign('sha256', Buffer.from(signingInput), keys.privateKey);
  return `${signingInput}.${b64url(signature)}`;
};

/**
 * Scopes as the stack's issuer spells them: `events:read` becomes `<prefix>events:read` (Cognito
 * writes resource-server scopes as `identifier/scope`); a scope that already has a `/` is kept.
 */
export const prefixScopes = (scope: string, prefix: string | undefined): string =>
  prefix
    ? scope
        .split(' ')
        .map((s) => (s === '' || s.includes('/') ? s : `${prefix}${s}`))
        .join(' ')
    : scope;

/** What `npm start` writes for `npm run token`: where the running stack listens, its tenant claim and audience. */
export interface RunningStack {
  readonly port: number;
  readonly tenantClaim: string;
  readonly audience?: string;
  /** Put before each scope that has none (a Cognito resource server's `identifier/`). */
  readonly scopePrefix?: string;
}

const runningFile = (stateDir: string) => join(stateDir, 'running.json');

export const writeRunningStack = (stateDir: string, running: RunningStack): void => {
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(runningFile(stateDir), `${JSON.stringify(running)}\n`);
};

export const clearRunningStack = (stateDir: string): void => rmSync(runningFile(stateDir), { force: true });

/** The stack `npm start` runs with this state folder, if one is running (or was not stopped cleanly). */
export const readRunningStack = (stateDir: string = DEFAULT_STATE_DIR): RunningStack | undefined => {
  try {
    const parsed = JSON.parse(readFileSync(runningFile(stateDir), 'utf8')) as Partial<RunningStack>;
    if (typeof parsed.port !== 'number' || typeof parsed.tenantClaim !== 'string') return undefined;
    return {
      port: parsed.port,
      tenantClaim: parsed.tenantClaim,
      ...(typeof parsed.audience === 'string' ? { audience: parsed.audience } : {}),
      ...(typeof parsed.scopePrefix === 'string' ? { scopePrefix: parsed.scopePrefix } : {}),
    };
  } catch {
    return undefined;
  }
};
