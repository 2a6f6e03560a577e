import { stringify } from 'yaml';
import { openApiDocument } from '../lambdas/core/schema';

/** openapi.yaml as `npm run openapi` writes it: deterministic, no YAML anchors, a do-not-edit header. */
export const renderOpenApi = (): string =>
  '# Generated from lambdas/core/schema.ts by `npm run openapi`. Do not edit by hand: a test fails when it drifts.\n' +
  stringify(openApiDocument(), { aliasDuplicateObjects: false, lineWidth: 0 });
