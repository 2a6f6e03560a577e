import { Match } from 'aws-cdk-lib/assertions';
import { ENV } from '../../contract';
import { synthStack } from '../support/stack';

type Json = any; // CloudFormation JSON

const environmentOf = (template: ReturnType<typeof synthStack>['template'], fnPath: string): Record<string, Json> => {
  const fn = (Object.values(template.findResources('AWS::Lambda::Function')) as Json[]).find(
    (f) => f.Metadata?.['aws:cdk:path'] === `ActivityTracker/${fnPath}/Resource`,
  );
  return fn.Properties.Environment.Variables;
};

describe('per-tenant fairness', () => {
  it('gives every API function the limits (defaults unless set) and the table holding the counters', () => {
    const { template } = synthStack({ tenantRequestsPerSecond: '20', tenantRateOverrides: 'acme=200/5000' });
    for (const fn of ['Functions/Ingest', 'Functions/Query', 'Functions/Admin']) {
      const env = environmentOf(template, fn);
      expect(env[ENV.tenantRequestsPerSecond.name]).toBe('20');
      expect(env[ENV.tenantEventsPerSecond.name]).toBe('1000');
      expect(env[ENV.tenantRateOverrides.name]).toBe('acme=200/5000');
      expect(env[ENV.tableName.name]).toEqual({ Ref: expect.stringMatching(/^StorageTable/) });
    }
    // Neither the writer nor the cleanup limits anything.
    expect(environmentOf(template, 'Functions/Writer')[ENV.tenantRequestsPerSecond.name]).toBeUndefined();
  });

  it('leaves out the overrides variable when there are none', () => {
    expect(environmentOf(synthStack().template, 'Functions/Ingest')[ENV.tenantRateOverrides.name]).toBeUndefined();
  });
});

describe('optional WAF web ACL', () => {
  it('is absent by default', () => {
    const { template } = synthStack();
    template.resourceCountIs('AWS::WAFv2::WebACL', 0);
    template.resourceCountIs('AWS::WAFv2::WebACLAssociation', 0);
  });

  it('with wafRateLimit: a REGIONAL web ACL whose rate-based rule blocks an IP over the limit per 5 minutes, on the API stage', () => {
    const { template } = synthStack({ wafRateLimit: '1000' });
    template.resourceCountIs('AWS::WAFv2::WebACL', 1);
    template.hasResourceProperties('AWS::WAFv2::WebACL', {
      Scope: 'REGIONAL',
      DefaultAction: { Allow: {} },
      Rules: [
        Match.objectLike({
          Action: { Block: {} },
          Statement: { RateBasedStatement: { AggregateKeyType: 'IP', Limit: 1000, EvaluationWindowSec: 300 } },
        }),
      ],
    });
    const [association] = Object.values(template.findResources('AWS::WAFv2::WebACLAssociation')) as Json[];
    const arn = JSON.stringify(association.Properties.ResourceArn);
    expect(arn).toContain(':apigateway:');
    expect(arn).toContain('/stages/');
    expect(association.Properties.WebACLArn).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^WebAcl/), 'Arn'] });
  });
});
