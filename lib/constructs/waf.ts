import type { Stage } from 'aws-cdk-lib/aws-apigateway';
import { CfnWebACL, CfnWebACLAssociation } from 'aws-cdk-lib/aws-wafv2';
import { Construct } from 'constructs';

export interface ApiWebAclProps {
  /** The API stage the web ACL protects. */
  readonly stage: Stage;
  /** Requests one IP address may send per evaluation window before WAF blocks it (10..2,000,000,000). */
  readonly rateLimit: number;
  /**
   * The window WAF counts requests over, in seconds (60, 120, 300 or 600).
   * @default 300
   */
  readonly evaluationWindowSeconds?: 60 | 120 | 300 | 600;
}

/**
 * An optional REGIONAL WAF web ACL on the API stage with one rate-based rule keyed by the client's
 * IP address: a flood from one address is refused by WAF (403) before API Gateway throttling,
 * authentication or any function runs. Per-tenant fairness stays in the functions
 * (lambdas/core/rate-limit.ts): WAF cannot read the tenant out of a verified token.
 */
export class ApiWebAcl extends Construct {
  readonly webAcl: CfnWebACL;

  constructor(scope: Construct, id: string, props: ApiWebAclProps) {
    super(scope, id);
    const metric = (name: string) => ({ cloudWatchMetricsEnabled: true, sampledRequestsEnabled: true, metricName: name });
    this.webAcl = new CfnWebACL(this, 'WebAcl', {
      scope: 'REGIONAL',
      defaultAction: { allow: {} },
      visibilityConfig: metric('ActivityTrackerApi'),
      rules: [
        {
          name: 'RatePerIp',
          priority: 0,
          action: { block: {} },
          statement: {
            rateBasedStatement: {
              aggregateKeyType: 'IP',
              limit: props.rateLimit,
              evaluationWindowSec: props.evaluationWindowSeconds ?? 300,
            },
          },
          visibilityConfig: metric('ActivityTrackerRatePerIp'),
        },
      ],
    });
    new CfnWebACLAssociation(this, 'Association', { resourceArn: props.stage.stageArn, webAclArn: this.webAcl.attrArn });
  }
}
