import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { clearRunningStack, writeRunningStack } from '../issuer';

const REPO_ROOT = resolve(__dirname, '../..');

/** The `token` command (`npm run token`): the claims a newcomer's token carries, as README's local-mode section describes. */
const stateDir = mkdtempSync(join(tmpdir(), 'at-token-'));
afterAll(() => rmSync(stateDir, { recursive: true, force: true }));

const { PORT: _port, ...withoutPort } = process.env;
const mint = (args: string[], env: Record<string, string> = {}) => {
  const token = execFileSync(
    join(REPO_ROOT, 'node_modules', '.bin', 'tsx'),
    [join(REPO_ROOT, 'local', 'cli', 'main.ts'), 'token', ...args],
    {
      env: { ...withoutPort, LOCAL_STATE_DIR: stateDir, ...env },
      encoding: 'utf8',
    },
  ).trim();
  return JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString('utf8')) as Record<string, unknown>;
};

it('issues for the PORT the stack runs on, and --offset-ms moves its times with the local clock', () => {
  const now = Math.floor(Date.now() / 1000);
  const plain = mint(['--tenant', 'acme', '--scope', 'events:read'], { PORT: '4000' });
  expect(plain).toMatchObject({ iss: 'http://127.0.0.1:4000/_local/issuer', tenant_id: 'acme', scope: 'events:read' });
  expect(Math.abs((plain.iat as number) - now)).toBeLessThan(30);

  const month = 31 * 86_400;
  const ahead = mint(['--tenant', 'acme', '--scope', 'events:read', '--offset-ms', String(month * 1000)]);
  expect(Math.abs((ahead.iat as number) - (now + month))).toBeLessThan(30);
  expect(ahead.nbf).toBe(ahead.iat);
  expect((ahead.exp as number) > (ahead.iat as number)).toBe(true);
}, 60_000);

it('issues for the stack npm start runs: its port and its tenant claim (PORT still wins)', () => {
  writeRunningStack(stateDir, { port: 4321, tenantClaim: 'org_id' });
  try {
    expect(mint(['--tenant', 'acme', '--scope', 'events:read'])).toMatchObject({
      iss: 'http://127.0.0.1:4321/_local/issuer',
      org_id: 'acme',
    });
    expect(mint(['--tenant', 'acme', '--scope', 'events:read'], { PORT: '5000' }).iss).toBe('http://127.0.0.1:5000/_local/issuer');
  } finally {
    clearRunningStack(stateDir);
  }
  expect(mint(['--tenant', 'acme', '--scope', 'events:read'])).toMatchObject({
    iss: 'http://127.0.0.1:3000/_local/issuer',
    tenant_id: 'acme',
  });
}, 60_000);

it('refuses an --offset-ms that is not a whole number of milliseconds', () => {
  expect(() => mint(['--tenant', 'acme', '--scope', '', '--offset-ms', '1.5'], {})).toThrow(/offset-ms must be an integer/);
}, 60_000);
