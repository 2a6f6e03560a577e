import { Duration } from 'aws-cdk-lib';
import { AuthorizationType, type IRestApi, LambdaIntegration, type Method } from 'aws-cdk-lib/aws-apigateway';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { VIEWER_MODULE } from '../../viewer/asset.generated';
import { createServiceFunction } from './lambda-function';

export interface ViewerAssetProps {
  /** The API that serves the module, under /viewer/{file}. */
  readonly api: IRestApi;
  readonly logLevel: string;
  readonly logRetention: RetentionDays;
}

/**
 * The embeddable viewer (`<activity-log>`, viewer/activity-log.js) as a static module of the API:
 * `GET /viewer/activity-log.js` and the versioned `GET /viewer/activity-log.<hash>.js`, served by a
 * function whose bundle holds the module's text. The route has no authorizer (a `<script>` tag
 * sends no token; the file is public and holds no data); the function reads nothing and has no
 * grant but its own log group.
 *
 * Behind the API rather than a bucket and CloudFront: one origin for the module and the data
 * (nothing else to deploy, secure or allow in a host page's CSP), the stage's throttling and access
 * log, and the same route locally. Browsers and CDNs cache it (`Cache-Control`), so the function
 * runs about once per page load of a new visitor.
 */
export class ViewerAsset extends Construct {
  readonly function: IFunction;
  /** GET /viewer/{file}. */
  readonly method: Method;
  /** The module's versioned file name (`activity-log.<content hash>.js`), cached a year. */
  readonly versionedFile = VIEWER_MODULE.versionedFile;

  constructor(scope: Construct, id: string, props: ViewerAssetProps) {
    super(scope, id);
    this.function = createServiceFunction(this, 'Function', {
      handler: 'viewer',
      description: 'Serves the embeddable viewer module (GET /viewer/{file})',
      logLevel: props.logLevel,
      logRetention: props.logRetention,
      memorySize: 128,
      timeout: Duration.seconds(5),
    });
    this.method = props.api.root
      .addResource('viewer')
      .addResource('{file}')
      .addMethod('GET', new LambdaIntegration(this.function, { allowTestInvoke: false }), {
        authorizationType: AuthorizationType.NONE,
      });
  }
}
