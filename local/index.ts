/**
 * @activity-tracker/local — runs a synthesized CDK app (its cloud assembly) on 127.0.0.1 with
 * emulators: DynamoDB (dynalite), SQS (fauxqs), Secrets Manager, the bundled functions in
 * isolated workers, the REST API, event source pollers, schedules and a local JWT issuer.
 * Nothing here knows an app's resources: everything comes from the template, and an app adds
 * its own glue through `environment` and `issuer` (see README.md).
 */
export { startLocal } from './runtime/start-local';
export { readAssembly } from './runtime/assembly';
export {
  LOCAL_ACCOUNT_ID,
  LOCAL_CREDENTIALS,
  type FunctionEnvironmentContext,
  type LocalEndpoints,
  type LocalIssuer,
  type LocalIssuerOptions,
  type LocalPage,
  type LocalPageContext,
  type LocalRuntime,
  type LocalStats,
  type ScheduleRunResult,
  type StartLocalOptions,
} from './runtime/types';
export { parseTemplate } from './template/read';
export { TemplateError, type FunctionModel, type TemplateModel } from './template/model';

export { synth } from './synth';
export { spawnLocal, type LocalProcess, type SpawnLocalOptions } from './process';
export { connectLocal, type LocalClient, type LocalHealth } from './client';
export { runLocalCli } from './cli/main';
export type { LocalAppConfig } from './cli/start';

export {
  DEFAULT_AUDIENCE,
  DEFAULT_STATE_DIR,
  DEFAULT_TENANT_CLAIM,
  clearRunningStack,
  loadOrCreateIssuerKeys,
  localIssuerUrl,
  localJwksUrl,
  prefixScopes,
  readRunningStack,
  signToken,
  writeRunningStack,
  type IssuerKeys,
  type RunningStack,
  type TokenOptions,
} from './issuer';
export { redrive, redrivePairs, type RedriveResult } from './redrive';
export type { FaultRule, FaultStats } from './faults';
export type { DashboardOptions } from './observe';
