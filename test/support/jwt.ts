import { createHmac, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';

/**
 * Test-only token minting with node:crypto: real RS256/ES256 signatures, and forged ones. Tokens
 * are access tokens by RFC 9068 (`typ: at+jwt`) unless the header says otherwise.
 */
export interface TestKeys {
  readonly privateKey: KeyObject;
  readonly publicJwk: Record<string, unknown>;
  readonly kid: string;
}

export const rsaKeys = (kid = 'test-rsa'): TestKeys => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { privateKey, kid, publicJwk: { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' } };
};

export const ecKeys = (kid = 'test-ec'): TestKeys => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return { privateKey, kid, publicJwk: { ...publicKey.export({ format: 'jwk' }), kid, alg: 'ES256', use: 'sig' } };
};

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

export const signJwt = (keys: TestKeys, payload: Record<string, unknown>, header: Record<string, unknown> = {}): string => {
  const alg = (header.alg as string | undefined) ?? (keys.publicJwk.alg as string);
  const head = { typ: 'at+jwt', alg, kid: keys.kid, ...header };
  const input = `${b64(head)}.${b64(payload)}`;
  if (alg === 'none' || alg.toLowerCase() === 'none') return `${input}.`;
  if (alg === 'HS256') {
    // The classic confusion attack: HMAC keyed with the RSA public key.
    const secret = createPublicKey(keys.privateKey).export({ format: 'pem', type: 'spki' });
    return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
  }
  const signature =
    alg === 'ES256'
      ? sign('sha256', Buffer.from(input), { key: keys.privateKey, dsaEncoding: 'ieee-p1363' })
      : sign('sha256', Buffer.from(input), keys.privateKey);
  return `${input}.${signature.toString('base64url')}`;
};
