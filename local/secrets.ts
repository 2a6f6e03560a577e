/**
 * A tiny Secrets Manager emulator (JSON 1.1 protocol, GetSecretValue / DescribeSecret) serving
 * the template's secrets with values generated per their GenerateSecretString spec.
 */
import { createServer, type Server } from 'node:http';
import { randomInt, randomUUID } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { GenerateSecretStringSpec, SecretModel } from './template/model';

const LOWER = 'abcdefghijklmnopqrstuvwxyz';
const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';
const DIGITS = '0123456789';
const PUNCTUATION = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';

/** A random password following Secrets Manager's GetRandomPassword rules. */
export const generatePassword = (spec: GenerateSecretStringSpec, rand: (max: number) => number = randomInt): string => {
  const exclude = new Set(spec.excludeCharacters);
  const keep = (chars: string) => [...chars].filter((c) => !exclude.has(c)).join('');
  const classes = [
    spec.excludeLowercase ? '' : keep(LOWER),
    spec.excludeUppercase ? '' : keep(UPPER),
    spec.excludeNumbers ? '' : keep(DIGITS),
    spec.excludePunctuation ? '' : keep(PUNCTUATION),
    spec.includeSpace ? ' ' : '',
  ].filter((c) => c.length > 0);
  const all = classes.join('');
  if (all.length === 0) throw new Error('GenerateSecretString excludes every character');
  if (spec.passwordLength < 1 || spec.passwordLength > 4096) throw new Error('PasswordLength must be 1..4096');
  const chars = Array.from({ length: spec.passwordLength }, () => all[rand(all.length)]!);
  if (spec.requireEachIncludedType && spec.passwordLength >= classes.length) {
    // Put one character of each class at distinct random positions.
    const positions = new Set<number>();
    for (const cls of classes) {
      let p: number;
      do p = rand(spec.passwordLength);
      while (positions.has(p));
      positions.add(p);
      chars[p] = cls[rand(cls.length)]!;
    }
  }
  return chars.join('');
};

/** The secret string CloudFormation would create for a secret resource. */
export const initialSecretString = (secret: SecretModel, rand?: (max: number) => number): string => {
  if (secret.secretString !== undefined) return secret.secretString;
  const spec = secret.generate;
  if (!spec) return '';
  const password = generatePassword(spec, rand);
  if (spec.secretStringTemplate === undefined) return password;
  const template = JSON.parse(spec.secretStringTemplate) as Record<string, unknown>;
  if (!spec.generateStringKey) throw new Error(`Secret ${secret.logicalId}: SecretStringTemplate needs GenerateStringKey`);
  return JSON.stringify({ ...template, [spec.generateStringKey]: password });
};

export interface StoredSecret {
  readonly arn: string;
  readonly name: string;
  readonly secretString: string;
  readonly versionId: string;
  readonly createdDate: number;
}

/**
 * Values are generated once per secret. With a file, they are kept there (mode 0600) and reused
 * on the next start, so public ids and cursors minted earlier stay valid with persisted data.
 */
export const loadSecrets = (secrets: readonly { model: SecretModel; arn: string }[], file?: string): StoredSecret[] => {
  let saved: Record<string, StoredSecret> = {};
  if (file) {
    try {
      saved = JSON.parse(readFileSync(file, 'utf8')) as Record<string, StoredSecret>;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`Cannot read ${file}: ${(e as Error).message}`);
    }
  }
  let changed = false;
  const out = secrets.map(({ model, arn }) => {
    const existing = saved[model.logicalId];
    if (existing) return { ...existing, arn, name: model.secretName };
    changed = true;
    const created: StoredSecret = {
      arn,
      name: model.secretName,
      secretString: initialSecretString(model),
      versionId: randomUUID(),
      createdDate: Math.floor(Date.now() / 1000),
    };
    saved[model.logicalId] = created;
    return created;
  });
  if (file && changed) {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    writeFileSync(file, `${JSON.stringify(saved, null, 2)}\n`, { mode: 0o600 });
    chmodSync(file, 0o600);
  }
  return out;
};

const findSecret = (secrets: readonly StoredSecret[], id: string) =>
  secrets.find((s) => s.arn === id || s.name === id || (id.startsWith('arn:') && s.arn.startsWith(`${id}-`)));

/** Starts the emulator on 127.0.0.1 (ephemeral port by default). */
export const startSecretsManager = async (
  secrets: readonly StoredSecret[],
  port = 0,
): Promise<{ endpoint: string; server: Server; stop: () => Promise<void> }> => {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const send = (status: number, body: unknown) => {
        res.writeHead(status, { 'Content-Type': 'application/x-amz-json-1.1', 'x-amzn-RequestId': randomUUID() });
        res.end(JSON.stringify(body));
      };
      const fail = (status: number, type: string, message: string) => send(status, { __type: type, message, Message: message });
      const target = String(req.headers['x-amz-target'] ?? '');
      let input: { SecretId?: unknown; VersionStage?: unknown; VersionId?: unknown };
      try {
        input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as typeof input;
      } catch {
        return fail(400, 'SerializationException', 'Request body is not valid JSON');
      }
      const action = target.replace(/^secretsmanager\./, '');
      if (action !== 'GetSecretValue' && action !== 'DescribeSecret') {
        return fail(400, 'UnknownOperationException', `${target || 'missing X-Amz-Target'} is not supported by the local emulator`);
      }
      if (typeof input.SecretId !== 'string') return fail(400, 'ValidationException', 'SecretId is required');
      const secret = findSecret(secrets, input.SecretId);
      if (!secret) return fail(400, 'ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
      if (input.VersionId !== undefined && input.VersionId !== secret.versionId) {
        return fail(400, 'ResourceNotFoundException', "Secrets Manager can't find the specified secret value for VersionId");
      }
      if (input.VersionStage !== undefined && input.VersionStage !== 'AWSCURRENT') {
        return fail(
          400,
          'ResourceNotFoundException',
          `Secrets Manager can't find the specified secret value for staging label: ${String(input.VersionStage)}`,
        );
      }
      if (action === 'DescribeSecret') {
        return send(200, {
          ARN: secret.arn,
          Name: secret.name,
          CreatedDate: secret.createdDate,
          VersionIdsToStages: { [secret.versionId]: ['AWSCURRENT'] },
        });
      }
      send(200, {
        ARN: secret.arn,
        Name: secret.name,
        SecretString: secret.secretString,
        VersionId: secret.versionId,
        VersionStages: ['AWSCURRENT'],
        CreatedDate: secret.createdDate,
      });
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  const { port: actual } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${actual}`,
    server,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
};
