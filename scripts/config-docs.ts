/**
 * `npm run docs`: rewrites docs/configuration.md's generated reference table from
 * lib/config-keys.ts; with `--check`, exits 1 when the committed page differs.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderConfigDocs } from './config-docs-render';

const file = join(__dirname, '..', 'docs', 'configuration.md');
const current = readFileSync(file, 'utf8');
const text = renderConfigDocs(current);
if (process.argv.includes('--check')) {
  if (current !== text) {
    console.error('docs/configuration.md is out of date: run `npm run docs` and commit the result');
    process.exit(1);
  }
  console.log('docs/configuration.md is up to date');
} else {
  writeFileSync(file, text);
  console.log(`wrote ${file}`);
}
