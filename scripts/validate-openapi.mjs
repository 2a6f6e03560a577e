// Validates openapi.yaml with @seriousme/openapi-schema-validator (the OpenAPI 3.1 meta-schemas,
// offline). ESM-only, so tests run it in a child process: `node scripts/validate-openapi.mjs [file]`.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Validator } from '@seriousme/openapi-schema-validator';

const file = process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..', 'openapi.yaml');
const validator = new Validator();
const result = await validator.validate(readFileSync(file, 'utf8'));
if (!result.valid) {
  console.error(JSON.stringify(result.errors, null, 2));
  process.exit(1);
}
console.log(`valid OpenAPI ${validator.version}`);
