/**
 * The REST API emulation: routes from the template's Resource/Method chains, REST (v1) Lambda
 * proxy events, the integration timeout, and API Gateway's own error answers (GatewayResponses).
 * Requests under /_local/ go to the local routes instead.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FunctionPool } from '../function-runner';
import type { LocalMetrics } from '../observe';
import {
  Router,
  buildProxyEvent,
  errorAnswer,
  gatewayErrorAnswer,
  proxyResultToHttp,
  MalformedProxyResponseError,
  type HttpAnswer,
  type RouteMatch,
} from '../proxy-event';
import type { PublicJwk } from '../issuer';
import type { TemplateModel } from '../template/model';
import { createAuthorizers } from './authorizers';
import { readBody, send } from './http';
import { LOCAL_ACCOUNT_ID } from './types';

/** API Gateway's payload limit. */
const MAX_REQUEST_BYTES = 10 * 1024 * 1024;

export interface ApiGatewayOptions {
  readonly model: TemplateModel;
  readonly port: number;
  readonly poolOf: (functionLogicalId: string) => FunctionPool;
  readonly metrics: LocalMetrics;
  readonly log: (line: string) => void;
  /** Answers /_local/* requests. */
  readonly local: (method: string, path: string, body: Buffer, query?: URLSearchParams) => Promise<HttpAnswer>;
  /** The local issuer, which stands in for every Cognito user pool of the template. */
  readonly issuer: { readonly url: string; readonly jwk: PublicJwk };
  readonly region: string;
  /** The stack's clock (ms since the epoch). */
  readonly now: () => number;
}

/** A node:http request listener emulating the template's REST API. */
export const apiGateway = ({ model, port, poolOf, metrics, log, local, issuer, region, now }: ApiGatewayOptions) => {
  const router = new Router(model.routes);
  const api = model.apis[0];
  // One REST API per template is the expected shape; its gateway responses apply to every route.
  const gatewayResponses = model.gatewayResponses.filter((r) => !api || r.apiLogicalId === api.logicalId);
  const authorize = createAuthorizers({
    authorizers: model.authorizers,
    poolOf,
    issuer,
    region,
    accountId: LOCAL_ACCOUNT_ID,
    apiId: 'local',
    now,
    log,
  });

  const invokeRoute = async (req: IncomingMessage, match: RouteMatch, request: ApiRequest): Promise<HttpAnswer> => {
    const { method, url, body, requestId, started } = request;
    const { route } = match;
    const apiModel = model.apis.find((a) => a.logicalId === route.apiLogicalId) ?? api;
    const event = buildProxyEvent(
      {
        method,
        url,
        rawHeaders: req.rawHeaders,
        body,
        sourceIp: req.socket.remoteAddress?.replace(/^::ffff:/, '') ?? '127.0.0.1',
        localPort: port,
      },
      {
        match,
        stage: apiModel?.stageName ?? 'prod',
        requestId,
        apiId: 'local',
        accountId: LOCAL_ACCOUNT_ID,
        binaryMediaTypes: apiModel?.binaryMediaTypes ?? [],
        now: new Date(started),
      },
    );
    // The method's authorizer runs first: a refused request never reaches the function.
    const auth = await authorize(route, event);
    if (!auth.ok) {
      return gatewayErrorAnswer(gatewayResponses, {
        responseType: auth.responseType,
        status: auth.status,
        message: auth.message,
        requestId,
        requestHeaders: req.headers,
        fallback: errorAnswer(
          auth.status,
          auth.status === 401 ? 'unauthorized' : auth.status === 403 ? 'forbidden' : 'internal',
          auth.message,
        ),
      });
    }
    (event.requestContext as { authorizer: unknown }).authorizer = auth.authorizer;
    // API Gateway stops waiting after the integration timeout; the function runs on.
    let timer: NodeJS.Timeout | undefined;
    const result = await Promise.race([
      poolOf(route.functionLogicalId).invoke(event, requestId),
      new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), route.integrationTimeoutMs))),
    ]);
    clearTimeout(timer);
    const internalError = () =>
      gatewayErrorAnswer(gatewayResponses, {
        responseType: 'DEFAULT_5XX',
        status: 502,
        message: 'Internal server error',
        requestId,
        requestHeaders: req.headers,
        fallback: errorAnswer(502, 'internal', 'Internal server error'),
      });
    if (result === 'timeout') {
      log(`${route.functionLogicalId}: no answer within the integration timeout (${route.integrationTimeoutMs} ms)`);
      return gatewayErrorAnswer(gatewayResponses, {
        responseType: 'INTEGRATION_TIMEOUT',
        status: 504,
        message: 'Endpoint request timed out',
        requestId,
        requestHeaders: req.headers,
        fallback: errorAnswer(504, 'timeout', 'Endpoint request timed out'),
      });
    }
    if (!result.ok) {
      log(`${route.functionLogicalId} failed: ${result.error.errorType}: ${result.error.errorMessage}`);
      metrics.error({
        time: new Date().toISOString(),
        fn: route.functionLogicalId,
        level: 'FAILED',
        message: `${result.error.errorType}: ${result.error.errorMessage}`,
      });
      return internalError();
    }
    try {
      return proxyResultToHttp(result.payload);
    } catch (e) {
      if (!(e instanceof MalformedProxyResponseError)) throw e;
      log(`${route.functionLogicalId} returned a malformed proxy response: ${e.message}`);
      return internalError();
    }
  };

  const answer = async (req: IncomingMessage, request: ApiRequest): Promise<{ answer: HttpAnswer; target: string }> => {
    const { method, path, requestId, body, tooLarge } = request;
    if (path.startsWith('/_local/')) {
      const query = new URL(req.url ?? '/', 'http://127.0.0.1').searchParams;
      return { answer: await local(req.method ?? 'GET', path, body, query), target: '' };
    }
    if (tooLarge) {
      const answer = gatewayErrorAnswer(gatewayResponses, {
        responseType: 'REQUEST_TOO_LARGE',
        status: 413,
        message: 'Request Too Long',
        requestId,
        requestHeaders: req.headers,
        fallback: errorAnswer(413, 'payload_too_large', 'Request too large: the API accepts at most 10 MB'),
      });
      return { answer, target: '' };
    }
    const found = router.lookup(method, path);
    if (found.kind === 'not_found') {
      const answer = gatewayErrorAnswer(gatewayResponses, {
        responseType: 'MISSING_AUTHENTICATION_TOKEN',
        status: 403,
        message: 'Missing Authentication Token',
        requestId,
        requestHeaders: req.headers,
        fallback: errorAnswer(404, 'not_found', `No route for ${method} ${path}`),
      });
      return { answer, target: '' };
    }
    if (found.kind === 'method_not_allowed') {
      // API Gateway answers a missing method like a missing route.
      const answer = gatewayErrorAnswer(gatewayResponses, {
        responseType: 'MISSING_AUTHENTICATION_TOKEN',
        status: 403,
        message: 'Missing Authentication Token',
        requestId,
        requestHeaders: req.headers,
        fallback: errorAnswer(405, 'method_not_allowed', `Method ${method} is not allowed on ${found.resourcePath}`, [
          ['Allow', found.allowed.join(', ')],
        ]),
      });
      return { answer, target: '' };
    }
    return { answer: await invokeRoute(req, found.match, request), target: ` → ${found.match.route.functionLogicalId}` };
  };

  return (req: IncomingMessage, res: ServerResponse) =>
    void (async () => {
      const requestId = randomUUID();
      const started = Date.now();
      const method = (req.method ?? 'GET').toUpperCase();
      const url = req.url ?? '/';
      const path = url.split('?')[0]!;
      let result: { answer: HttpAnswer; target: string };
      try {
        const { body, tooLarge } = await readBody(req, MAX_REQUEST_BYTES);
        result = await answer(req, { method, url, path, body, tooLarge, requestId, started });
      } catch (e) {
        log(`request failed: ${(e as Error).stack ?? String(e)}`);
        result = { answer: errorAnswer(500, 'internal', 'Internal server error'), target: '' };
      }
      send(res, result.answer, requestId);
      if (!path.startsWith('/_local/')) log(`${method} ${path} ${result.answer.statusCode} ${Date.now() - started}ms${result.target}`);
    })();
};

interface ApiRequest {
  readonly method: string;
  readonly url: string;
  readonly path: string;
  readonly body: Buffer;
  readonly tooLarge: boolean;
  readonly requestId: string;
  readonly started: number;
}
