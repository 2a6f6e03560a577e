import { RemovalPolicy } from 'aws-cdk-lib';
import { type ISecret, Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';

export interface IdKeySecretProps {
  /**
   * Losing the keys makes every public id and cursor unreadable: keep the secret by default.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The secret holding the versioned keys for public ids and cursors: `{"current":"1","k1":"<64 chars>"}`.
 * A rotation adds `k2` and sets `current` to "2"; old keys stay so old ids still resolve.
 * The functions read it into a keyring (lambdas/adapters/secret-keyring.ts) once per cold start.
 */
export class IdKeySecret extends Construct {
  readonly secret: ISecret;

  constructor(scope: Construct, id: string, props: IdKeySecretProps = {}) {
    super(scope, id);

    this.secret = new Secret(this, 'Secret', {
      description: 'Activity Tracker keys for public ids and cursors (versioned)',
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ current: '1' }),
        generateStringKey: 'k1',
        passwordLength: 64,
        excludePunctuation: true,
      },
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
  }
}
