/**
 * `npm run viewer`: writes viewer/asset.generated.ts (the module the viewer function serves) and
 * the size block of docs/viewer.md from viewer/activity-log.js, and prints the gzip size; with
 * `--check`, exits 1 when either is out of date or the module is over its gzip budget.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import {
  VIEWER_DOC,
  VIEWER_GENERATED,
  VIEWER_GZIP_BUDGET_BYTES,
  renderViewerDoc,
  renderViewerModule,
  viewerAssetFacts,
} from './viewer-asset-render';

const facts = viewerAssetFacts();
const outputs: [string, string][] = [
  [VIEWER_GENERATED, renderViewerModule(facts)],
  [VIEWER_DOC, renderViewerDoc(readFileSync(VIEWER_DOC, 'utf8'), facts)],
];
console.log(
  `viewer/activity-log.js: ${facts.bytes} bytes, ${facts.gzipBytes} bytes gzip -9 (budget ${VIEWER_GZIP_BUDGET_BYTES}); versioned name activity-log.${facts.hash}.js`,
);
if (facts.gzipBytes > VIEWER_GZIP_BUDGET_BYTES) {
  console.error('the viewer is over its gzip budget');
  process.exit(1);
}
if (process.argv.includes('--check')) {
  const stale = outputs.filter(([file, text]) => readFileSync(file, 'utf8') !== text).map(([file]) => file);
  if (stale.length > 0) {
    console.error(`out of date: ${stale.join(', ')}: run \`npm run viewer\` and commit the result`);
    process.exit(1);
  }
} else {
  for (const [file, text] of outputs) writeFileSync(file, text);
}
