import { responseChecker } from '../support/openapi';
import { synthStack } from '../support/stack';

type Resource = { Type: string; Properties: Record<string, any> };

describe('openapi.yaml and the REST API', () => {
  it('document exactly the routes the API Gateway serves', () => {
    const resources = synthStack().template.toJSON().Resources as Record<string, Resource>;
    const pathOf = (ref: unknown): string => {
      if (typeof ref === 'object' && ref !== null && 'Fn::GetAtt' in ref) return ''; // the API's root resource
      const id = (ref as { Ref: string }).Ref;
      const resource = resources[id] as Resource;
      return `${pathOf(resource.Properties.ParentId)}/${resource.Properties.PathPart}`;
    };
    const served = Object.values(resources)
      .filter((r) => r.Type === 'AWS::ApiGateway::Method' && r.Properties.HttpMethod !== 'OPTIONS')
      .map((r) => `${r.Properties.HttpMethod} ${pathOf(r.Properties.ResourceId)}`)
      .sort();
    expect(served).toEqual(
      responseChecker()
        .operations.map((o) => o.route)
        .sort(),
    );
  });
});
