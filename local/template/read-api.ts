/** Reads a template's REST APIs (routes from Resource/Method chains) and its gateway responses. */
import {
  TemplateError,
  type AuthorizerModel,
  type CfnResource,
  type GatewayResponseModel,
  type RestApiModel,
  type RouteModel,
} from './model';
import { allReferences, isRecord, num, referencedLogicalId, str } from './values';

/** The function a method's integration invokes: the Lambda function referenced inside Integration.Uri. */
const integrationFunction = (integration: Record<string, unknown>, resources: Record<string, CfnResource>) =>
  allReferences(integration.Uri).find((ref) => resources[ref.logicalId]?.Type === 'AWS::Lambda::Function')?.logicalId;

export const parseApis = (resources: Record<string, CfnResource>, warnings: string[]) => {
  const apis: RestApiModel[] = [];
  const routes: RouteModel[] = [];
  const entries = Object.entries(resources);
  for (const [apiId, api] of entries) {
    if (api.Type !== 'AWS::ApiGateway::RestApi') continue;
    const p = api.Properties ?? {};
    const refsApi = (v: unknown) => referencedLogicalId(v)?.logicalId === apiId;
    const stage = entries.find(([, r]) => r.Type === 'AWS::ApiGateway::Stage' && refsApi(r.Properties?.RestApiId));
    const deploymentStage = entries.find(
      ([, r]) =>
        r.Type === 'AWS::ApiGateway::Deployment' && refsApi(r.Properties?.RestApiId) && typeof r.Properties?.StageName === 'string',
    );
    apis.push({
      logicalId: apiId,
      name: str(p.Name) ?? apiId,
      stageName: str(stage?.[1].Properties?.StageName) ?? str(deploymentStage?.[1].Properties?.StageName) ?? 'prod',
      binaryMediaTypes: Array.isArray(p.BinaryMediaTypes) ? p.BinaryMediaTypes.filter((t): t is string => typeof t === 'string') : [],
    });

    // Resource id -> full path, walking ParentId chains up to the api's RootResourceId.
    const isRoot = (v: unknown) => {
      const ref = referencedLogicalId(v);
      return ref?.logicalId === apiId && ref.attribute === 'RootResourceId';
    };
    const pathCache = new Map<string, string>();
    const resourcePath = (resourceId: string, seen: string[] = []): string => {
      const cached = pathCache.get(resourceId);
      if (cached !== undefined) return cached;
      const r = resources[resourceId];
      if (r?.Type !== 'AWS::ApiGateway::Resource') throw new TemplateError(`ApiGateway resource ${resourceId} not found`);
      if (seen.includes(resourceId)) throw new TemplateError(`ApiGateway resource ${resourceId}: ParentId cycle`);
      const part = str(r.Properties?.PathPart);
      if (!part) throw new TemplateError(`ApiGateway resource ${resourceId}: PathPart missing`);
      const parent = r.Properties?.ParentId;
      let parentPath: string;
      if (isRoot(parent)) parentPath = '';
      else {
        const parentRef = referencedLogicalId(parent);
        if (!parentRef || parentRef.attribute) throw new TemplateError(`ApiGateway resource ${resourceId}: unsupported ParentId`);
        parentPath = resourcePath(parentRef.logicalId, [...seen, resourceId]);
      }
      const full = `${parentPath}/${part}`;
      pathCache.set(resourceId, full);
      return full;
    };

    for (const [methodId, m] of entries) {
      if (m.Type !== 'AWS::ApiGateway::Method' || !refsApi(m.Properties?.RestApiId)) continue;
      const mp = m.Properties ?? {};
      const httpMethod = String(mp.HttpMethod ?? '').toUpperCase();
      const integration = isRecord(mp.Integration) ? mp.Integration : {};
      // A MOCK method (e.g. CDK's default CORS preflight) has no function to run; an OPTIONS method
      // with a Lambda proxy integration is routed like any other.
      if (integration.Type === 'MOCK') continue;
      let path: string;
      if (isRoot(mp.ResourceId)) path = '/';
      else {
        const ref = referencedLogicalId(mp.ResourceId);
        if (!ref || ref.attribute) throw new TemplateError(`ApiGateway method ${methodId}: unsupported ResourceId`);
        path = resourcePath(ref.logicalId);
      }
      const fn = integrationFunction(integration, resources);
      if (integration.Type !== 'AWS_PROXY' || !fn) {
        warnings.push(`ApiGateway method ${methodId} (${httpMethod} ${path}): only Lambda proxy integrations are emulated; skipped`);
        continue;
      }
      const authorizationType = str(mp.AuthorizationType) ?? 'NONE';
      const authorizer = referencedLogicalId(mp.AuthorizerId);
      if (!['NONE', 'COGNITO_USER_POOLS', 'CUSTOM'].includes(authorizationType)) {
        warnings.push(`ApiGateway method ${methodId} (${httpMethod} ${path}): authorization ${authorizationType} is not emulated locally`);
      }
      const authorizationScopes = Array.isArray(mp.AuthorizationScopes)
        ? mp.AuthorizationScopes.filter((scope): scope is string => typeof scope === 'string')
        : [];
      if (mp.RequestValidatorId !== undefined) {
        warnings.push(`ApiGateway method ${methodId} (${httpMethod} ${path}): request validation is not emulated locally`);
      }
      const integrationTimeoutMs = num(integration.TimeoutInMillis, `ApiGateway method ${methodId} Integration.TimeoutInMillis`) ?? 29_000;
      routes.push({
        apiLogicalId: apiId,
        methodLogicalId: methodId,
        resourcePath: path,
        httpMethod,
        functionLogicalId: fn,
        authorizationType,
        ...(authorizer &&
          resources[authorizer.logicalId]?.Type === 'AWS::ApiGateway::Authorizer' && { authorizerLogicalId: authorizer.logicalId }),
        authorizationScopes,
        integrationTimeoutMs,
      });
    }
  }
  return { apis, routes };
};

export const parseGatewayResponses = (resources: Record<string, CfnResource>, warnings: string[]): GatewayResponseModel[] => {
  const out: GatewayResponseModel[] = [];
  for (const [id, r] of Object.entries(resources)) {
    if (r.Type !== 'AWS::ApiGateway::GatewayResponse') continue;
    const p = r.Properties ?? {};
    const api = referencedLogicalId(p.RestApiId);
    const responseType = str(p.ResponseType);
    if (!api || !responseType) continue;
    const templates: Record<string, string> = {};
    for (const [type, body] of Object.entries(isRecord(p.ResponseTemplates) ? p.ResponseTemplates : {})) {
      if (typeof body === 'string') templates[type.toLowerCase()] = body;
    }
    const headers: Record<string, string> = {};
    const requestHeaders: Record<string, string> = {};
    for (const [key, value] of Object.entries(isRecord(p.ResponseParameters) ? p.ResponseParameters : {})) {
      const m = /^gatewayresponse\.header\.(.+)$/.exec(key);
      const literal = typeof value === 'string' ? /^'(.*)'$/.exec(value) : null;
      const fromRequest = typeof value === 'string' ? /^method\.request\.header\.(.+)$/.exec(value) : null;
      if (m && literal) headers[m[1]!] = literal[1]!;
      else if (m && fromRequest) requestHeaders[m[1]!] = fromRequest[1]!;
      else warnings.push(`GatewayResponse ${id}: parameter ${key} is neither a static header nor a request header; ignored locally`);
    }
    const statusCode = num(p.StatusCode, `GatewayResponse ${id} StatusCode`);
    out.push({
      apiLogicalId: api.logicalId,
      responseType,
      ...(statusCode !== undefined ? { statusCode } : {}),
      templates,
      headers,
      ...(Object.keys(requestHeaders).length > 0 && { requestHeaders }),
    });
  }
  return out;
};

const AUTHORIZER_TYPES: readonly string[] = ['COGNITO_USER_POOLS', 'TOKEN', 'REQUEST'];

/** The template's authorizers: type, identity source, result cache time and (Lambda authorizers) function. */
export const parseAuthorizers = (resources: Record<string, CfnResource>, warnings: string[]): AuthorizerModel[] => {
  const out: AuthorizerModel[] = [];
  for (const [id, r] of Object.entries(resources)) {
    if (r.Type !== 'AWS::ApiGateway::Authorizer') continue;
    const p = r.Properties ?? {};
    const api = referencedLogicalId(p.RestApiId);
    const type = str(p.Type) ?? '';
    if (!api || !AUTHORIZER_TYPES.includes(type)) {
      warnings.push(`ApiGateway authorizer ${id}: type ${type || '?'} is not emulated; its methods answer 500`);
      continue;
    }
    const functionLogicalId = allReferences(p.AuthorizerUri).find(
      (ref) => resources[ref.logicalId]?.Type === 'AWS::Lambda::Function',
    )?.logicalId;
    const validation = str(p.IdentityValidationExpression);
    out.push({
      logicalId: id,
      apiLogicalId: api.logicalId,
      type: type as AuthorizerModel['type'],
      identitySource: (str(p.IdentitySource) ?? '')
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean),
      ttlSeconds: num(p.AuthorizerResultTtlInSeconds, `ApiGateway authorizer ${id} AuthorizerResultTtlInSeconds`) ?? 300,
      ...(validation !== undefined && { identityValidationExpression: validation }),
      ...(functionLogicalId !== undefined && { functionLogicalId }),
    });
  }
  return out;
};
