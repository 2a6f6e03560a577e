/**
 * API Gateway REST API (v1) emulation, pure parts: route matching on the template's resource
 * tree, the Lambda proxy event, and the translation of the function's answer into HTTP.
 */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import type { GatewayResponseModel, RouteModel } from './template/model';

export interface RouteMatch {
  readonly route: RouteModel;
  readonly pathParameters: Record<string, string> | null;
}

export type RouteLookup =
  | { readonly kind: 'found'; readonly match: RouteMatch }
  | { readonly kind: 'method_not_allowed'; readonly allowed: string[]; readonly resourcePath: string }
  | { readonly kind: 'not_found' };

const segmentsOf = (path: string) => path.split('/').filter((s, i, all) => s !== '' || (i > 0 && i < all.length - 1));

interface Node {
  readonly static: Map<string, Node>;
  param?: { readonly name: string; readonly node: Node };
  greedy?: { readonly name: string; readonly resourcePath: string };
  resourcePath?: string;
}

const newNode = (): Node => ({ static: new Map() });

/** Matches request paths against the template's resources the way API Gateway does. */
export class Router {
  private readonly root = newNode();
  private readonly methods = new Map<string, Map<string, RouteModel>>();

  constructor(routes: readonly RouteModel[]) {
    for (const route of routes) {
      let node = this.root;
      const parts = route.resourcePath === '/' ? [] : route.resourcePath.split('/').slice(1);
      parts.forEach((part, i) => {
        const greedy = /^\{(.+)\+\}$/.exec(part);
        const param = /^\{(.+)\}$/.exec(part);
        if (greedy) {
          if (i !== parts.length - 1) throw new Error(`Greedy path part ${part} must be last in ${route.resourcePath}`);
          node.greedy = { name: greedy[1]!, resourcePath: route.resourcePath };
          return;
        }
        if (param) {
          if (node.param && node.param.name !== param[1]) {
            throw new Error(`Conflicting path parameters {${node.param.name}} and ${part} under the same resource`);
          }
          node.param ??= { name: param[1]!, node: newNode() };
          node = node.param.node;
          return;
        }
        let child = node.static.get(part);
        if (!child) {
          child = newNode();
          node.static.set(part, child);
        }
        node = child;
      });
      if (!/\{.+\+\}$/.test(route.resourcePath)) node.resourcePath = route.resourcePath;
      const byMethod = this.methods.get(route.resourcePath) ?? new Map<string, RouteModel>();
      if (byMethod.has(route.httpMethod)) throw new Error(`Duplicate route ${route.httpMethod} ${route.resourcePath}`);
      byMethod.set(route.httpMethod, route);
      this.methods.set(route.resourcePath, byMethod);
    }
  }

  /** `path` is the raw (still percent-encoded) request path without the query string. */
  lookup(httpMethod: string, path: string): RouteLookup {
    const found = this.resolve(this.root, segmentsOf(path), {});
    if (!found) return { kind: 'not_found' };
    const byMethod = this.methods.get(found.resourcePath);
    const route = byMethod?.get(httpMethod.toUpperCase()) ?? byMethod?.get('ANY');
    if (!route) return { kind: 'method_not_allowed', allowed: [...(byMethod?.keys() ?? [])], resourcePath: found.resourcePath };
    const names = Object.keys(found.params);
    return { kind: 'found', match: { route, pathParameters: names.length ? found.params : null } };
  }

  private resolve(
    node: Node,
    parts: string[],
    params: Record<string, string>,
  ): { resourcePath: string; params: Record<string, string> } | undefined {
    if (parts.length === 0) {
      if (node.resourcePath !== undefined) return { resourcePath: node.resourcePath, params };
      return undefined;
    }
    const [head, ...rest] = parts as [string, ...string[]];
    const child = node.static.get(head);
    if (child) {
      const r = this.resolve(child, rest, params);
      if (r) return r;
    }
    if (node.param && head !== '') {
      const r = this.resolve(node.param.node, rest, { ...params, [node.param.name]: head });
      if (r) return r;
    }
    if (node.greedy) return { resourcePath: node.greedy.resourcePath, params: { ...params, [node.greedy.name]: parts.join('/') } };
    return undefined;
  }
}

export interface ProxyRequest {
  readonly method: string;
  /** Request target as received: path plus optional query string, still percent-encoded. */
  readonly url: string;
  /** Node's `req.rawHeaders`: alternating names (case preserved) and values. */
  readonly rawHeaders: readonly string[];
  readonly body: Buffer;
  readonly sourceIp: string;
  readonly localPort: number;
}

export interface ProxyEventOptions {
  readonly match: RouteMatch;
  readonly stage: string;
  readonly requestId: string;
  readonly apiId: string;
  readonly accountId: string;
  readonly binaryMediaTypes: readonly string[];
  readonly now: Date;
}

const decode = (s: string) => {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
};

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (n: number) => String(n).padStart(2, '0');
/** API Gateway's `requestContext.requestTime` format: 21/Nov/2026:10:00:00 +0000. */
export const requestTime = (d: Date) =>
  `${pad(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000`;

/** Whether a content type matches one of the API's binary media types (supports `*` wildcards). */
export const isBinaryMediaType = (contentType: string | undefined, binaryMediaTypes: readonly string[]) => {
  if (!contentType) return binaryMediaTypes.includes('*/*');
  const type = contentType.split(';')[0]!.trim().toLowerCase();
  return binaryMediaTypes.some((pattern) => {
    const [pt, ps] = pattern.toLowerCase().split('/');
    const [t, s] = type.split('/');
    return (pt === '*' || pt === t) && (ps === '*' || ps === s);
  });
};

const isUtf8 = (buf: Buffer) => {
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(buf);
    return true;
  } catch {
    return false;
  }
};

/** Builds the Lambda proxy integration event API Gateway (REST) sends for a request. */
export const buildProxyEvent = (req: ProxyRequest, opts: ProxyEventOptions): APIGatewayProxyEvent => {
  const q = req.url.indexOf('?');
  const path = q >= 0 ? req.url.slice(0, q) : req.url;
  const query = q >= 0 ? req.url.slice(q + 1) : '';

  // Prototype-free maps: a header or parameter may be called `constructor`, `toString` or `__proto__`.
  const headers: Record<string, string> = Object.create(null);
  const multiValueHeaders: Record<string, string[]> = Object.create(null);
  const canonical = new Map<string, string>();
  const addHeader = (name: string, value: string) => {
    const key = canonical.get(name.toLowerCase()) ?? name;
    canonical.set(name.toLowerCase(), key);
    headers[key] = value;
    multiValueHeaders[key] = [...(multiValueHeaders[key] ?? []), value];
  };
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) addHeader(req.rawHeaders[i]!, req.rawHeaders[i + 1]!);
  if (!canonical.has('x-forwarded-for')) addHeader('X-Forwarded-For', req.sourceIp);
  if (!canonical.has('x-forwarded-port')) addHeader('X-Forwarded-Port', String(req.localPort));
  if (!canonical.has('x-forwarded-proto')) addHeader('X-Forwarded-Proto', 'http');
  const header = (name: string) => {
    const key = canonical.get(name);
    return key === undefined ? undefined : headers[key];
  };

  const qs: Record<string, string> = Object.create(null);
  const mqs: Record<string, string[]> = Object.create(null);
  for (const pair of query.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = decode(eq >= 0 ? pair.slice(0, eq) : pair);
    const value = decode(eq >= 0 ? pair.slice(eq + 1) : '');
    qs[name] = value;
    mqs[name] = [...(mqs[name] ?? []), value];
  }
  const hasQuery = Object.keys(qs).length > 0;

  let body: string | null = null;
  let isBase64Encoded = false;
  if (req.body.length > 0) {
    if (isBinaryMediaType(header('content-type'), opts.binaryMediaTypes) || !isUtf8(req.body)) {
      body = req.body.toString('base64');
      isBase64Encoded = true;
    } else {
      body = req.body.toString('utf8');
    }
  }

  const { route } = opts.match;
  const epoch = opts.now.getTime();
  return {
    resource: route.resourcePath,
    path,
    httpMethod: req.method.toUpperCase(),
    headers,
    multiValueHeaders,
    queryStringParameters: hasQuery ? qs : null,
    multiValueQueryStringParameters: hasQuery ? mqs : null,
    pathParameters: opts.match.pathParameters,
    stageVariables: null,
    requestContext: {
      accountId: opts.accountId,
      apiId: opts.apiId,
      authorizer: null,
      domainName: header('host') ?? `127.0.0.1:${req.localPort}`,
      domainPrefix: '127',
      extendedRequestId: opts.requestId,
      httpMethod: req.method.toUpperCase(),
      identity: {
        accessKey: null,
        accountId: null,
        apiKey: null,
        apiKeyId: null,
        caller: null,
        clientCert: null,
        cognitoAuthenticationProvider: null,
        cognitoAuthenticationType: null,
        cognitoIdentityId: null,
        cognitoIdentityPoolId: null,
        principalOrgId: null,
        sourceIp: req.sourceIp,
        user: null,
        userAgent: header('user-agent') ?? null,
        userArn: null,
      },
      path: `/${opts.stage}${path}`,
      protocol: 'HTTP/1.1',
      requestId: opts.requestId,
      requestTime: requestTime(opts.now),
      requestTimeEpoch: epoch,
      resourceId: route.methodLogicalId,
      resourcePath: route.resourcePath,
      stage: opts.stage,
    },
    body,
    isBase64Encoded,
  };
};

export interface HttpAnswer {
  readonly statusCode: number;
  /** Header pairs in order (a name may repeat, e.g. Set-Cookie). */
  readonly headers: [string, string][];
  readonly body: Buffer;
}

/** Thrown when a function's answer is not a valid proxy response; API Gateway answers 502. */
export class MalformedProxyResponseError extends Error {
  override name = 'MalformedProxyResponseError';
}

const headerValue = (v: unknown, name: string): string => {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  throw new MalformedProxyResponseError(`header ${name} is not a string`);
};

/** Translates a function's proxy result into the HTTP answer API Gateway would send. */
export const proxyResultToHttp = (result: unknown): HttpAnswer => {
  if (typeof result !== 'object' || result === null || Array.isArray(result)) {
    throw new MalformedProxyResponseError('the function did not return an object');
  }
  const r = result as Record<string, unknown>;
  const statusCode = typeof r.statusCode === 'string' && /^\d+$/.test(r.statusCode) ? Number(r.statusCode) : r.statusCode;
  if (typeof statusCode !== 'number' || !Number.isInteger(statusCode) || statusCode < 100 || statusCode > 599) {
    throw new MalformedProxyResponseError('statusCode missing or invalid');
  }
  const single = (r.headers ?? {}) as unknown;
  const multi = (r.multiValueHeaders ?? {}) as unknown;
  if (typeof single !== 'object' || single === null || typeof multi !== 'object' || multi === null) {
    throw new MalformedProxyResponseError('headers must be objects');
  }
  // Docs: headers and multiValueHeaders merge; a name present in both keeps the multi values.
  const merged = new Map<string, [string, string[]]>();
  for (const [name, v] of Object.entries(single)) merged.set(name.toLowerCase(), [name, [headerValue(v, name)]]);
  for (const [name, vs] of Object.entries(multi)) {
    if (!Array.isArray(vs)) throw new MalformedProxyResponseError(`multiValueHeaders.${name} is not a list`);
    merged.set(name.toLowerCase(), [name, vs.map((v) => headerValue(v, name))]);
  }
  const headers: [string, string][] = [];
  for (const [name, values] of merged.values()) for (const v of values) headers.push([name, v]);
  // API Gateway answers application/json when the function sets no content type.
  if (!merged.has('content-type')) headers.unshift(['Content-Type', 'application/json']);
  if (r.body !== undefined && r.body !== null && typeof r.body !== 'string') {
    throw new MalformedProxyResponseError('body must be a string');
  }
  const text = typeof r.body === 'string' ? r.body : '';
  const body = r.isBase64Encoded === true ? Buffer.from(text, 'base64') : Buffer.from(text, 'utf8');
  return { statusCode, headers, body };
};

/** Error answer in the service's JSON error shape. */
export const errorAnswer = (statusCode: number, code: string, message: string, extraHeaders: [string, string][] = []): HttpAnswer => ({
  statusCode,
  headers: [['Content-Type', 'application/json'], ...extraHeaders],
  body: Buffer.from(JSON.stringify({ error: { code, message } })),
});

/** API Gateway's own status for the gateway response types local mode produces. */
const GATEWAY_DEFAULT_STATUS: Record<string, number | undefined> = {
  MISSING_AUTHENTICATION_TOKEN: 403,
  UNAUTHORIZED: 401,
  ACCESS_DENIED: 403,
  AUTHORIZER_FAILURE: 500,
  AUTHORIZER_CONFIGURATION_ERROR: 500,
  REQUEST_TOO_LARGE: 413,
  INTEGRATION_TIMEOUT: 504,
};

export interface GatewayErrorOptions {
  /** The gateway response type API Gateway would use, e.g. MISSING_AUTHENTICATION_TOKEN. */
  readonly responseType: string;
  /** Status when the response is not from the template's own response type. */
  readonly status: number;
  /** API Gateway's message for $context.error.message. */
  readonly message: string;
  /** Answer used when the template customizes neither this type nor its DEFAULT_4XX/5XX. */
  readonly fallback: HttpAnswer;
  readonly requestId: string;
  readonly context?: Record<string, string>;
  /** The request's headers (names lower case, as node:http gives them), for `method.request.header.*` mappings. */
  readonly requestHeaders?: Readonly<Record<string, string | string[] | undefined>>;
}

/**
 * The error answer API Gateway sends for a gateway-generated error, honouring the template's
 * GatewayResponses (specific type first, then DEFAULT_4XX / DEFAULT_5XX); the brief's error
 * shape when the template customizes nothing.
 */
export const gatewayErrorAnswer = (responses: readonly GatewayResponseModel[], opts: GatewayErrorOptions): HttpAnswer => {
  const family = opts.status >= 500 ? 'DEFAULT_5XX' : 'DEFAULT_4XX';
  const specific = responses.find((r) => r.responseType === opts.responseType);
  const response = specific ?? responses.find((r) => r.responseType === family);
  if (!response) return opts.fallback;
  const statusCode = response.statusCode ?? (specific ? GATEWAY_DEFAULT_STATUS[opts.responseType] : undefined) ?? opts.status;
  const [contentType, template] = Object.entries(response.templates).find(([t]) => t === 'application/json') ??
    Object.entries(response.templates)[0] ?? ['application/json', JSON.stringify({ message: opts.message })];
  const vars: Record<string, string> = {
    '$context.error.messageString': JSON.stringify(opts.message),
    '$context.error.message': opts.message,
    '$context.error.responseType': opts.responseType,
    '$context.requestId': opts.requestId,
    '$context.extendedRequestId': opts.requestId,
    ...opts.context,
  };
  const body = template.replace(/\$(?:\{context\.[A-Za-z.]+\}|context\.[A-Za-z.]+)/g, (m) => {
    const key = m.startsWith('${') ? `$${m.slice(2, -1)}` : m;
    return vars[key] ?? '';
  });
  // A header mapped from a request header is left out when the request has none, as API Gateway does.
  const mapped = Object.entries(response.requestHeaders ?? {}).flatMap(([name, from]): [string, string][] => {
    const value = opts.requestHeaders?.[from.toLowerCase()];
    const text = Array.isArray(value) ? value.join(',') : value;
    return text ? [[name, text]] : [];
  });
  return {
    statusCode,
    headers: [['Content-Type', contentType], ['x-amzn-ErrorType', opts.responseType], ...Object.entries(response.headers), ...mapped],
    body: Buffer.from(body),
  };
};
