import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetSecretValueCommand, ResourceNotFoundException, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { generatePassword, initialSecretString, loadSecrets, startSecretsManager } from '../secrets';
import type { GenerateSecretStringSpec, SecretModel } from '../template/model';

const spec = (over: Partial<GenerateSecretStringSpec> = {}): GenerateSecretStringSpec => ({
  passwordLength: 64,
  excludeCharacters: '',
  excludePunctuation: true,
  excludeNumbers: false,
  excludeLowercase: false,
  excludeUppercase: false,
  includeSpace: false,
  requireEachIncludedType: true,
  ...over,
});

const keysSecret: SecretModel = {
  logicalId: 'Keys',
  secretName: 'Keys',
  generate: spec({ secretStringTemplate: '{"current":"1"}', generateStringKey: 'k1' }),
};

describe('secret generation', () => {
  it('generates PasswordLength alphanumeric characters when punctuation is excluded', () => {
    for (let i = 0; i < 20; i++) expect(generatePassword(spec())).toMatch(/^[A-Za-z0-9]{64}$/);
  });

  it('honours excluded characters and classes, and includes each remaining class', () => {
    const p = generatePassword(spec({ passwordLength: 32, excludeUppercase: true, excludeCharacters: 'abc0', excludePunctuation: false }));
    expect(p).toHaveLength(32);
    expect(p).not.toMatch(/[A-Zabc0]/);
    expect(p).toMatch(/[d-z]/);
    expect(p).toMatch(/[1-9]/);
    expect(p).toMatch(/[^a-z0-9]/);
  });

  it('fills the SecretStringTemplate with GenerateStringKey', () => {
    const value = JSON.parse(initialSecretString(keysSecret)) as Record<string, string>;
    expect(Object.keys(value)).toEqual(['current', 'k1']);
    expect(value.current).toBe('1');
    expect(value.k1).toMatch(/^[A-Za-z0-9]{64}$/);
  });
});

describe('loadSecrets', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'local-secrets-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('generates fresh values in memory mode', () => {
    const [a] = loadSecrets([{ model: keysSecret, arn: 'arn:1' }]);
    const [b] = loadSecrets([{ model: keysSecret, arn: 'arn:1' }]);
    expect(a!.secretString).not.toBe(b!.secretString);
  });

  it('keeps values in a private file and reuses them on the next start', () => {
    const file = join(dir, 'secrets.json');
    const [first] = loadSecrets([{ model: keysSecret, arn: 'arn:1' }], file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const [again] = loadSecrets([{ model: keysSecret, arn: 'arn:1' }], file);
    expect(again).toEqual(first);
  });
});

describe('Secrets Manager emulator', () => {
  const arn = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:Keys-AbCdEf';
  const secrets = [{ arn, name: 'Keys', secretString: '{"current":"1","k1":"x"}', versionId: 'v1', createdDate: 1700000000 }];
  let emulator: Awaited<ReturnType<typeof startSecretsManager>>;
  let client: SecretsManagerClient;
  beforeAll(async () => {
    emulator = await startSecretsManager(secrets);
    client = new SecretsManagerClient({
      region: 'us-east-1',
      endpoint: emulator.endpoint,
      credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    });
  });
  afterAll(async () => {
    client.destroy();
    await emulator.stop();
  });

  it.each([[arn], ['Keys'], ['arn:aws:secretsmanager:us-east-1:000000000000:secret:Keys']])(
    'serves GetSecretValue for SecretId %s',
    async (id) => {
      const out = await client.send(new GetSecretValueCommand({ SecretId: id }));
      expect(out).toMatchObject({ ARN: arn, Name: 'Keys', SecretString: '{"current":"1","k1":"x"}', VersionId: 'v1' });
      expect(out.CreatedDate).toEqual(new Date(1700000000 * 1000));
    },
  );

  it('answers ResourceNotFoundException for an unknown secret', async () => {
    await expect(client.send(new GetSecretValueCommand({ SecretId: 'nope' }))).rejects.toBeInstanceOf(ResourceNotFoundException);
  });
});
