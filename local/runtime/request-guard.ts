/**
 * Keeps web pages in the developer's browser away from the local runtime (issue 17, item 7).
 *
 * - Every request must name the runtime by a loopback `Host` (127.0.0.1, localhost or [::1]
 *   with its port): a page on a rebound DNS name (evil.example → 127.0.0.1) sends its own name
 *   and is answered 421 before any routing.
 * - A mutating `/_local/*` request (any method but GET, HEAD, OPTIONS) is refused (403) when it
 *   carries an `Origin` other than the runtime's own loopback origin, or `Sec-Fetch-Site:
 *   cross-site|same-site`; and (415) unless it is JSON: a body, a `Content-Type`, an `Origin` or
 *   a `Sec-Fetch-Site` each require `Content-Type: application/json`. A page can send JSON
 *   cross-origin only after a CORS preflight, which the runtime never grants, so no request from
 *   a page reaches these routes; a bodiless `curl -X POST` (no browser sends one without
 *   `Origin`) still does.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { errorAnswer, type HttpAnswer } from '../proxy-event';
import { send } from './http';

const LOOPBACK_NAMES = ['127.0.0.1', 'localhost', '[::1]'];
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface GuardedRequest {
  readonly method?: string | undefined;
  readonly url?: string | undefined;
  readonly headers: IncomingHttpHeaders;
}

const header = (headers: IncomingHttpHeaders, name: string): string | undefined => {
  const value = headers[name];
  return Array.isArray(value) ? value.join(',') : value;
};

/** The `Host` values that name this runtime: each loopback name with its port (alone on port 80). */
export const loopbackHosts = (port: number): string[] =>
  LOOPBACK_NAMES.flatMap((name) => (port === 80 ? [name, `${name}:80`] : [`${name}:${port}`]));

/** The runtime's own origins: a page it serves itself, e.g. the status page. */
const ownOrigins = (port: number) => LOOPBACK_NAMES.map((name) => (port === 80 ? `http://${name}` : `http://${name}:${port}`));

const isJson = (contentType: string) => contentType.split(';')[0]!.trim().toLowerCase() === 'application/json';

/** A 421 unless `Host` names the server on `port` by a loopback name. */
export const refuseHost = (headers: IncomingHttpHeaders, port: number): HttpAnswer | undefined => {
  const host = header(headers, 'host')?.toLowerCase();
  if (host !== undefined && loopbackHosts(port).includes(host)) return undefined;
  return errorAnswer(
    421,
    'misdirected_request',
    `The local runtime answers only to Host ${loopbackHosts(port).join(', ')} (got ${host === undefined ? 'none' : JSON.stringify(host)})`,
  );
};

/** Why the runtime on `port` refuses this request, as its answer; undefined when it may be served. */
export const refuseRequest = ({ method, url, headers }: GuardedRequest, port: number): HttpAnswer | undefined => {
  const misdirected = refuseHost(headers, port);
  if (misdirected) return misdirected;
  const path = (url ?? '/').split('?')[0]!;
  if (!path.startsWith('/_local/') || SAFE_METHODS.has((method ?? 'GET').toUpperCase())) return undefined;

  const origin = header(headers, 'origin');
  const site = header(headers, 'sec-fetch-site')?.toLowerCase();
  if (origin !== undefined && !ownOrigins(port).includes(origin.toLowerCase())) {
    return errorAnswer(403, 'cross_origin_refused', `Local admin routes refuse requests from other origins (Origin ${origin})`);
  }
  if (site === 'cross-site' || site === 'same-site') {
    return errorAnswer(403, 'cross_origin_refused', `Local admin routes refuse requests from other sites (Sec-Fetch-Site ${site})`);
  }
  const contentType = header(headers, 'content-type');
  const hasBody = Number(header(headers, 'content-length') ?? 0) > 0 || header(headers, 'transfer-encoding') !== undefined;
  const needsJson = hasBody || contentType !== undefined || origin !== undefined || site !== undefined;
  if (needsJson && !(contentType !== undefined && isJson(contentType))) {
    return errorAnswer(
      415,
      'unsupported_media_type',
      `Local admin routes take Content-Type: application/json (got ${contentType === undefined ? 'none' : contentType})`,
    );
  }
  return undefined;
};

/** Wraps a request listener: refused requests are answered here and never reach it. */
export const guardRequests =
  (port: number, handler: (req: IncomingMessage, res: ServerResponse) => void, log?: (line: string) => void) =>
  (req: IncomingMessage, res: ServerResponse) => {
    const refused = refuseRequest(req, port);
    if (!refused) return handler(req, res);
    log?.(
      `refused ${req.method} ${(req.url ?? '/').split('?')[0]} (${refused.statusCode}): ${JSON.parse(refused.body.toString()).error.message}`,
    );
    // Unread bodies are drained by node:http; the connection closes so nothing else rides on it.
    res.shouldKeepAlive = false;
    send(res, refused, randomUUID());
  };

type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * The Host check on a listening emulator (DynamoDB, SQS, Secrets Manager, the fault proxy): a
 * rebound page that found its port would otherwise read every table, queue and secret. Its
 * request listeners run only for requests that name it by a loopback Host and its own port.
 */
export const guardHost = (server: Server): void => {
  const { port } = server.address() as AddressInfo;
  const listeners = server.listeners('request') as RequestListener[];
  server.removeAllListeners('request');
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const refused = refuseHost(req.headers, port);
    if (!refused) {
      for (const listener of listeners) listener.call(server, req, res);
      return;
    }
    res.shouldKeepAlive = false;
    send(res, refused, randomUUID());
  });
};
