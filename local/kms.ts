/**
 * A KMS emulator for the template's asymmetric SIGN_VERIFY keys (RSA_2048/3072/4096, ECC_NIST_P256):
 * Sign, Verify and GetPublicKey over the JSON 1.1 protocol the SDK speaks (`X-Amz-Target:
 * TrentService.<Action>`). Key material is generated once and kept under the state folder
 * (`<stateDir>/kms/<key id>.pem`, git-ignored), so signatures verify across restarts.
 */
import {
  constants,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  privateEncrypt,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { guardHost } from './runtime/request-guard';
import type { KmsKeyModel } from './template/model';

/** DER DigestInfo prefixes: a PKCS #1 v1.5 signature of a precomputed hash (MessageType DIGEST). */
const DIGEST_INFO: Record<string, Buffer> = {
  sha256: Buffer.from('3031300d060960864801650304020105000420', 'hex'),
  sha384: Buffer.from('3041300d060960864801650304020205000430', 'hex'),
  sha512: Buffer.from('3051300d060960864801650304020305000440', 'hex'),
};

const hashOf = (algorithm: string): string => (algorithm.endsWith('384') ? 'sha384' : algorithm.endsWith('512') ? 'sha512' : 'sha256');

const generate = (keySpec: string): KeyObject => {
  if (keySpec.startsWith('RSA_')) return generateKeyPairSync('rsa', { modulusLength: Number(keySpec.slice(4)) }).privateKey;
  if (keySpec === 'ECC_NIST_P256') return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  throw new Error(`key spec ${keySpec} is not emulated`);
};

export interface KmsEmulator {
  readonly endpoint: string;
  stop(): Promise<void>;
}

class KmsError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

/** Starts the emulator on 127.0.0.1 with the template's sign/verify keys. */
export const startKms = async (keys: readonly KmsKeyModel[], stateDir: string, region: string, accountId: string): Promise<KmsEmulator> => {
  const dir = join(stateDir, 'kms');
  const byId = new Map<string, { model: KmsKeyModel; privateKey: KeyObject }>();
  for (const model of keys.filter((k) => k.keyUsage === 'SIGN_VERIFY')) {
    const file = join(dir, `${model.keyId}.pem`);
    let privateKey: KeyObject;
    if (existsSync(file)) privateKey = createPrivateKey(readFileSync(file, 'utf8'));
    else {
      privateKey = generate(model.keySpec);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    }
    byId.set(model.keyId, { model, privateKey });
  }
  const arnOf = (id: string) => `arn:aws:kms:${region}:${accountId}:key/${id}`;
  const find = (keyId: unknown) => {
    const id = typeof keyId === 'string' ? (keyId.split('key/').pop() ?? keyId) : '';
    const key = byId.get(id);
    if (!key) throw new KmsError('NotFoundException', `Key '${String(keyId)}' does not exist`);
    return { id, ...key };
  };
  const signWith = (privateKey: KeyObject, algorithm: string, message: Buffer, type: string): Buffer => {
    const hash = hashOf(algorithm);
    if (type === 'DIGEST') {
      if (algorithm.startsWith('RSASSA_PKCS1_V1_5')) {
        return privateEncrypt(
          { key: privateKey, padding: constants.RSA_PKCS1_PADDING },
          Buffer.concat([DIGEST_INFO[hash] as Buffer, message]),
        );
      }
      throw new KmsError('UnsupportedOperationException', `MessageType DIGEST is emulated for RSASSA_PKCS1_V1_5 only`);
    }
    return sign(
      hash,
      message,
      algorithm.startsWith('RSASSA_PSS') ? { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING } : privateKey,
    );
  };

  const handle = (action: string, input: Record<string, unknown>): Record<string, unknown> => {
    switch (action) {
      case 'GetPublicKey': {
        const { id, model, privateKey } = find(input.KeyId);
        return {
          KeyId: arnOf(id),
          KeySpec: model.keySpec,
          KeyUsage: 'SIGN_VERIFY',
          PublicKey: createPublicKey(privateKey).export({ type: 'spki', format: 'der' }).toString('base64'),
          SigningAlgorithms: model.keySpec.startsWith('RSA_')
            ? ['RSASSA_PKCS1_V1_5_SHA_256', 'RSASSA_PKCS1_V1_5_SHA_384', 'RSASSA_PKCS1_V1_5_SHA_512', 'RSASSA_PSS_SHA_256']
            : ['ECDSA_SHA_256'],
        };
      }
      case 'Sign': {
        const { id, privateKey } = find(input.KeyId);
        const algorithm = String(input.SigningAlgorithm ?? '');
        const message = Buffer.from(String(input.Message ?? ''), 'base64');
        const signature = signWith(privateKey, algorithm, message, String(input.MessageType ?? 'RAW'));
        return { KeyId: arnOf(id), Signature: signature.toString('base64'), SigningAlgorithm: algorithm };
      }
      case 'Verify': {
        const { id, privateKey } = find(input.KeyId);
        const algorithm = String(input.SigningAlgorithm ?? '');
        const message = Buffer.from(String(input.Message ?? ''), 'base64');
        const signature = Buffer.from(String(input.Signature ?? ''), 'base64');
        if (String(input.MessageType ?? 'RAW') === 'DIGEST') {
          const expected = signWith(privateKey, algorithm, message, 'DIGEST');
          if (!expected.equals(signature)) throw new KmsError('KMSInvalidSignatureException', 'the signature does not verify');
        } else if (!verify(hashOf(algorithm), message, createPublicKey(privateKey), signature)) {
          throw new KmsError('KMSInvalidSignatureException', 'the signature does not verify');
        }
        return { KeyId: arnOf(id), SignatureValid: true, SigningAlgorithm: algorithm };
      }
      default:
        throw new KmsError('UnsupportedOperationException', `${action} is not emulated`);
    }
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const action = String(req.headers['x-amz-target'] ?? '').replace(/^TrentService\./, '');
      let status = 200;
      let body: Record<string, unknown>;
      try {
        body = handle(action, JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>);
      } catch (error) {
        status = 400;
        body = { __type: error instanceof KmsError ? error.type : 'ValidationException', message: (error as Error).message };
      }
      res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
      res.end(JSON.stringify(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  guardHost(server);
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
};
