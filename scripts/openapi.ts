/**
 * Writes openapi.yaml from lambdas/core/schema.ts (`npm run openapi`), or with `--check` exits 1
 * when the committed file differs from what the code generates.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderOpenApi } from './openapi-render';

const file = join(__dirname, '..', 'openapi.yaml');
const text = renderOpenApi();
if (process.argv.includes('--check')) {
  let current = '';
  try {
    current = readFileSync(file, 'utf8');
  } catch {
    // missing: reported below
  }
  if (current !== text) {
    console.error('openapi.yaml is out of date: run `npm run openapi` and commit the result');
    process.exit(1);
  }
  console.log('openapi.yaml is up to date');
} else {
  writeFileSync(file, text);
  console.log(`wrote ${file}`);
}
