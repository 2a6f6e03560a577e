import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { VIEWER_FILE, VIEWER_VERSIONED_FILE, viewerFile } from '../../../lambdas/core/viewer-asset';
import { NotFoundError } from '../../../lambdas/core/errors';
import {
  VIEWER_DOC,
  VIEWER_GENERATED,
  VIEWER_GZIP_BUDGET_BYTES,
  renderViewerDoc,
  renderViewerModule,
  viewerAssetFacts,
} from '../../../scripts/viewer-asset-render';
import { VIEWER_MODULE } from '../../../viewer/asset.generated';
import { configureHandlerEnv, lambdaContext, proxyEvent } from '../../support/handler-env';

configureHandlerEnv({ POWERTOOLS_METRICS_NAMESPACE: 'Test', POWERTOOLS_DEV: 'true', POWERTOOLS_LOG_LEVEL: 'SILENT' });
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { handler } = require('../../../lambdas/handlers/viewer') as typeof import('../../../lambdas/handlers/viewer');

const facts = viewerAssetFacts();

describe('the <activity-log> module', () => {
  it(`is at most ${VIEWER_GZIP_BUDGET_BYTES} bytes gzip -9 (prints its size)`, () => {
    console.log(`viewer/activity-log.js: ${facts.bytes} bytes, ${facts.gzipBytes} bytes gzip -9 (budget ${VIEWER_GZIP_BUDGET_BYTES})`);
    expect(facts.gzipBytes).toBeLessThanOrEqual(VIEWER_GZIP_BUDGET_BYTES);
  });

  it('is embedded as is in viewer/asset.generated.ts and sized in docs/viewer.md (run `npm run viewer` after changing it)', () => {
    expect(readFileSync(VIEWER_GENERATED, 'utf8')).toBe(renderViewerModule(facts));
    const doc = readFileSync(VIEWER_DOC, 'utf8');
    expect(doc).toBe(renderViewerDoc(doc, facts));
    expect(VIEWER_MODULE.text).toBe(facts.text);
  });

  it('never turns text into markup and imports nothing (event data is attacker-controlled)', () => {
    const code = facts.text.replace(/\/\*\*[\s\S]*?\*\//g, '');
    for (const sink of [
      'innerHTML',
      'outerHTML',
      'insertAdjacentHTML',
      'document.write',
      'eval(',
      'new Function',
      'import(',
      'srcdoc',
      'createContextualFragment',
    ]) {
      expect({ sink, found: code.includes(sink) }).toEqual({ sink, found: false });
    }
    expect(code).not.toMatch(/^\s*import\s/m);
    // One fetch, in the method that checks the URL stays on the API base's origin.
    expect(code.match(/\bfetch\(/g)).toHaveLength(1);
    expect(code).toContain('url.origin !== base.origin');
  });
});

describe('GET /viewer/{file}', () => {
  const get = (file: string | undefined) =>
    handler(
      proxyEvent({
        httpMethod: 'GET',
        resource: '/viewer/{file}',
        path: `/viewer/${file}`,
        pathParameters: file === undefined ? null : { file },
      }),
      lambdaContext(),
    );

  it('serves the module as text/javascript, CORS-open, cached 5 minutes, or a year under its versioned name', async () => {
    const current = await get(VIEWER_FILE);
    expect(current.statusCode).toBe(200);
    expect(current.body).toBe(VIEWER_MODULE.text);
    expect(current.headers).toMatchObject({
      'content-type': 'text/javascript; charset=utf-8',
      'cache-control': 'public, max-age=300',
      'access-control-allow-origin': '*',
      'x-content-type-options': 'nosniff',
    });
    const versioned = await get(VIEWER_VERSIONED_FILE);
    expect(VIEWER_VERSIONED_FILE).toBe(`activity-log.${facts.hash}.js`);
    expect([versioned.statusCode, versioned.headers?.['cache-control']]).toEqual([200, 'public, max-age=31536000, immutable']);
  });

  it('answers 404 not_found JSON for any other file name, never a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.string(), fc.constantFrom('../activity-log.js', 'activity-log.js ', 'ACTIVITY-LOG.JS', '')),
        async (file) => {
          fc.pre(file !== VIEWER_FILE && file !== VIEWER_VERSIONED_FILE);
          const res = await get(file);
          expect(res.statusCode).toBe(404);
          expect(JSON.parse(res.body).error.code).toBe('not_found');
        },
      ),
      { numRuns: 300 },
    );
    expect((await get(undefined)).statusCode).toBe(404);
    expect(() => viewerFile('x.js')).toThrow(NotFoundError);
  });
});
