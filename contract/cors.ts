/**
 * Browser reads from another origin (an app embedding the viewer): the origins allowed are listed
 * at deploy time (config key `corsAllowedOrigins`, env CORS_ALLOWED_ORIGINS). An origin is a scheme,
 * host and optional port, exactly as a browser sends it in `Origin`: https, or http on loopback for
 * development. `*` is never accepted: each answer names the one origin that asked.
 */
const ORIGIN_PATTERN =
  /^(?:https:\/\/[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*|http:\/\/(?:localhost|127\.0\.0\.1|\[::1\]))(?::[0-9]{1,5})?$/;

/** The routes a browser may read from an allowed origin: the viewer's (contract VIEWER_ROUTES). */
export const CORS_METHODS = 'GET';
/** Request headers an allowed origin may send. */
export const CORS_ALLOW_HEADERS = 'Authorization, X-Request-Id';
/** Answer headers a page may read beyond the safelisted ones. */
export const CORS_EXPOSE_HEADERS = 'X-Request-Id, Retry-After, WWW-Authenticate';
/** Seconds a browser may reuse a preflight answer. */
export const CORS_MAX_AGE_SECONDS = 600;

/** Parses a comma-separated list of origins; throws naming the first bad entry. Empty: none. */
export const parseCorsOrigins = (text: string): string[] => {
  const origins = text
    .split(',')
    .map((o) => o.trim())
    .filter(Boolean);
  for (const origin of origins) {
    if (!ORIGIN_PATTERN.test(origin)) {
      throw new Error(
        `'${origin}' is not an origin: expected https://host[:port] (lower case, no path, no '*'; http only on localhost/127.0.0.1)`,
      );
    }
  }
  return [...new Set(origins)];
};
