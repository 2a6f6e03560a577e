import { AwsSolutionsChecks, type NagPack, ServerlessChecks } from 'cdk-nag';

/**
 * The cdk-nag rule packs the stack must pass with no unacknowledged finding (error or warning):
 * AWS Solutions, and Serverless for what it adds (DLQs and failure destinations, tracing,
 * structured logs, Lambda defaults). Registered in bin/app.ts, so every `cdk synth` fails on a
 * finding, and run directly in test/infra/nag.test.ts. Acknowledgements: lib/nag-suppressions.ts.
 */
export const nagPacks = (): NagPack[] => [new AwsSolutionsChecks(), new ServerlessChecks()];
