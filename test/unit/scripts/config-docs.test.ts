import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONFIG_KEYS, loadConfig } from '../../../lib/config';
import { renderConfigDocs, renderConfigTable } from '../../../scripts/config-docs-render';
import { markdownBlock, replaceBlock } from '../../../scripts/markdown-block';

const ROOT = join(__dirname, '..', '..', '..');
const OIDC = { authMode: 'oidc', issuer: 'https://idp.example.com/', audience: 'api', jwksUri: 'https://idp.example.com/jwks.json' };

/** The keys loadConfig asks for, with every optional key set so that none is skipped. */
const keysRead = (context: Record<string, unknown>): Set<string> => {
  const asked = new Set<string>();
  loadConfig((key) => {
    asked.add(key);
    return context[key];
  });
  return asked;
};

describe('docs/configuration.md', () => {
  it('holds the reference table generated from CONFIG_KEYS (run `npm run docs` after changing a key in lib/config/keys-*.ts)', () => {
    const page = readFileSync(join(ROOT, 'docs', 'configuration.md'), 'utf8');
    expect(page).toBe(renderConfigDocs(page));
  });

  it('lists every key loadConfig reads, and nothing it does not', () => {
    const optional = {
      alarmEmail: 'oncall@example.com',
      cleanupMaxChunks: '3',
      tenantRetentionDays: 'acme=90',
      capacityMode: 'provisioned',
    };
    const read = new Set([...keysRead({ ...optional, cognitoDomainPrefix: 'acme-events' }), ...keysRead({ ...optional, ...OIDC })]);
    expect([...read].sort()).toEqual(Object.keys(CONFIG_KEYS).sort());
    for (const key of Object.keys(CONFIG_KEYS)) expect(renderConfigTable()).toContain(`| \`${key}\` |`);
  });

  it('documents the defaults loadConfig applies', () => {
    const config = loadConfig(() => undefined) as unknown as Record<string, unknown>;
    for (const key of [
      'shardCount',
      'retentionDays',
      'deleteGraceDays',
      'writerBatchSize',
      'cleanupSchedule',
      'traceSampleRate',
    ] as const) {
      expect(config[key]).toBe(CONFIG_KEYS[key].default);
    }
  });
});

describe('generated Markdown blocks', () => {
  const block = markdownBlock('x', 'a test', '| a |');

  it('replaces exactly the block between its markers', () => {
    const page = `# Title\n\nbefore\n<!-- x:begin -->\nold\n<!-- x:end -->\nafter\n`;
    expect(replaceBlock(page, 'x', block)).toBe(`# Title\n\nbefore\n${block}\nafter\n`);
    expect(replaceBlock(replaceBlock(page, 'x', block), 'x', block)).toBe(replaceBlock(page, 'x', block));
  });

  it('refuses a page without the block, or with two', () => {
    expect(() => replaceBlock('no block here', 'x', block)).toThrow(/found 0/);
    expect(() => replaceBlock(`${block}\n${block}`, 'x', block)).toThrow(/found 2/);
  });
});
