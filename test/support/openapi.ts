/**
 * Checks HTTP responses against openapi.yaml: the documented statuses of the operation, the
 * response body against its JSON Schema (ajv, draft 2020-12, strict), the content type and the
 * documented headers. Used by every integration test's `request()` (test/integration/http.ts).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';

const ROOT = join(__dirname, '..', '..');
const SCHEMAS_ID = 'https://activity-tracker.invalid/openapi/schemas';

interface ResponseSpec {
  description: string;
  headers?: Record<string, unknown>;
  content?: Record<string, { schema: unknown }>;
}
interface OperationSpec {
  operationId: string;
  responses: Record<string, ResponseSpec>;
  security?: Record<string, string[]>[];
  'x-scope'?: string;
}
export interface OpenApiDocument {
  openapi: string;
  paths: Record<string, Record<string, OperationSpec | unknown>>;
  components: { schemas: Record<string, unknown> };
}

export const loadOpenApi = (file = join(ROOT, 'openapi.yaml')): OpenApiDocument => parse(readFileSync(file, 'utf8')) as OpenApiDocument;

/** OpenAPI refs point into the document; ajv gets the schemas as one 2020-12 schema with $defs. */
const rewriteRefs = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(rewriteRefs);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [
        k,
        k === '$ref' && typeof v === 'string' ? v.replace('#/components/schemas/', `${SCHEMAS_ID}#/$defs/`) : rewriteRefs(v),
      ]),
    );
  }
  return value;
};

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

export interface OperationMatch {
  readonly route: string;
  readonly path: string;
  readonly method: string;
  readonly operation: OperationSpec;
}

export const createResponseChecker = (doc: OpenApiDocument = loadOpenApi()) => {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormats(ajv);
  // OpenAPI's annotation keywords beside JSON Schema's.
  ajv.addVocabulary(['example', 'x-max-serialized-bytes']);
  ajv.addSchema({ $id: SCHEMAS_ID, $defs: rewriteRefs(doc.components.schemas) as Record<string, object> });
  const compiled = new Map<string, ValidateFunction>();

  const operations: OperationMatch[] = Object.entries(doc.paths).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => METHODS.includes(method))
      .map(([method, operation]) => ({
        route: `${method.toUpperCase()} ${path}`,
        path,
        method: method.toUpperCase(),
        operation: operation as OperationSpec,
      })),
  );
  const matchers = operations.map((op) => ({ op, regex: new RegExp(`^${op.path.replace(/\{[^/}]+\}/g, '[^/]+')}$`) }));

  /** The documented operation for a request, if any (the query string is ignored). */
  const find = (method: string, url: string): OperationMatch | undefined => {
    const path = url.split('?')[0] as string;
    return matchers.find(({ op, regex }) => op.method === method.toUpperCase() && regex.test(path))?.op;
  };

  /** Problems with one response; empty when it matches the document. */
  const check = (method: string, url: string, status: number, headers: Headers, text: string): string[] => {
    const match = find(method, url);
    if (!match) return [];
    const where = `${match.route} → ${status}`;
    const response = match.operation.responses[String(status)];
    if (!response) return [`${where}: status not documented (documented: ${Object.keys(match.operation.responses).join(', ')})`];
    const problems: string[] = [];
    for (const name of Object.keys(response.headers ?? {})) {
      // Retry-After is optional on 429 (the gateway's throttling sends none); the others are promised.
      if (name !== 'Retry-After' && !headers.has(name)) problems.push(`${where}: header ${name} missing`);
    }
    const media = response.content?.['application/json'];
    // Another documented media type (the viewer's module): the content type must be it; no schema.
    const other = Object.keys(response.content ?? {}).find((type) => type !== 'application/json');
    if (!media && other) {
      const type = headers.get('content-type') ?? '';
      return type.split(';')[0]?.trim().toLowerCase() === other
        ? problems
        : [...problems, `${where}: content-type ${type}, documented ${other}`];
    }
    if (!media) {
      if (text !== '') problems.push(`${where}: documented without a body, got ${JSON.stringify(text.slice(0, 200))}`);
      return problems;
    }
    if (!/^application\/json\b/i.test(headers.get('content-type') ?? ''))
      problems.push(`${where}: content-type ${headers.get('content-type')}`);
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      return [...problems, `${where}: body is not JSON: ${JSON.stringify(text.slice(0, 200))}`];
    }
    const key = `${match.route} ${status}`;
    let validate = compiled.get(key);
    if (!validate) {
      validate = ajv.compile(rewriteRefs(media.schema) as object);
      compiled.set(key, validate);
    }
    if (!validate(body)) problems.push(`${where}: ${ajv.errorsText(validate.errors)} in ${JSON.stringify(body).slice(0, 300)}`);
    return problems;
  };

  return { operations, find, check, ajv, schemaId: SCHEMAS_ID, rewriteRefs };
};

let shared: ReturnType<typeof createResponseChecker> | undefined;
/** One checker per test file (jest gives each file its own module registry). */
export const responseChecker = (): ReturnType<typeof createResponseChecker> => (shared ??= createResponseChecker());
