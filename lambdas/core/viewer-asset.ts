import { VIEWER_MODULE } from '../../viewer/asset.generated';
import { NotFoundError } from './errors';

/** A static file's answer. */
export interface StaticFile {
  readonly headers: Record<string, string>;
  readonly body: string;
}

/** The unversioned name: a page that always wants the current viewer (re-checked every 5 minutes). */
export const VIEWER_FILE = 'activity-log.js';
/** The versioned name (content hash): never changes, so it is cached for a year. */
export const VIEWER_VERSIONED_FILE = VIEWER_MODULE.versionedFile;

/**
 * The <activity-log> module under /viewer/{file}. Any origin may load it: a cross-origin
 * `<script type="module">` is a CORS request, so it needs `Access-Control-Allow-Origin`; the module
 * is public and carries no credentials or data.
 * @throws NotFoundError for any other file
 */
export const viewerFile = (
  file: string | undefined,
  module: { readonly hash: string; readonly versionedFile: string; readonly text: string } = VIEWER_MODULE,
): StaticFile => {
  const versioned = module.versionedFile;
  if (file !== VIEWER_FILE && file !== versioned) throw new NotFoundError(`no viewer file ${JSON.stringify(file ?? '')}`);
  return {
    headers: {
      'content-type': 'text/javascript; charset=utf-8',
      'cache-control': file === versioned ? 'public, max-age=31536000, immutable' : 'public, max-age=300',
      etag: `"${module.hash}"`,
      'access-control-allow-origin': '*',
      'cross-origin-resource-policy': 'cross-origin',
      'x-content-type-options': 'nosniff',
    },
    body: module.text,
  };
};
