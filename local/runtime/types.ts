import type { DashboardOptions } from '../observe';
/** The options, results and handle of `startLocal` (runtime/start-local.ts). */
import type { FaultProxy, FaultRule } from '../faults';
import type { FunctionPool, InvocationResult } from '../function-runner';
import type { TokenOptions } from '../issuer';
import type { PollerStats } from '../poller';
import type { StreamPollerStats } from '../stream-poller';
import type { FunctionModel, TemplateModel } from '../template/model';

export const LOCAL_ACCOUNT_ID = '000000000000';
export const DEFAULT_REGION = 'us-east-1';
export const LOCAL_CREDENTIALS = { accessKeyId: 'local', secretAccessKey: 'local' };

/** Where the local emulators listen. */
export interface LocalEndpoints {
  readonly dynamodb: string;
  readonly sqs: string;
  /** fauxqs's S3 (path-style). */
  readonly s3: string;
  readonly kms: string;
  readonly secretsManager: string;
  /** EventBridge: PutEvents for every bus of the template (local/event-bus.ts). */
  readonly eventBridge?: string;
}

/** The local JWT issuer a runtime serves (JWKS at /_local/jwks.json). */
export interface LocalIssuer {
  /** `iss` of its tokens: http://127.0.0.1:PORT/_local/issuer */
  readonly url: string;
  readonly jwksUri: string;
  readonly audience: string;
  /** The claim its tokens carry the tenant in. */
  readonly tenantClaim: string;
  /** Put before each scope of its tokens that has none (LocalIssuerOptions.scopePrefix). */
  readonly scopePrefix?: string;
}

/** What an `environment` hook knows when it adds variables to a function's environment. */
export interface FunctionEnvironmentContext {
  readonly port: number;
  readonly baseUrl: string;
  readonly region: string;
  readonly endpoints: LocalEndpoints;
  readonly issuer: LocalIssuer;
}

export interface LocalIssuerOptions {
  /** `aud` of the tokens. @default "local" */
  readonly audience?: string;
  /** The claim tokens carry the tenant in, or how to read it from the template. @default "tenant_id" */
  readonly tenantClaim?: string | ((model: TemplateModel) => string | undefined);
  /**
   * Put before each scope of a minted token that has none, as the stack's real issuer writes them
   * (e.g. a Cognito resource server's `identifier/`), so that `--scope events:read` still works.
   * @default none
   */
  readonly scopePrefix?: string | ((model: TemplateModel) => string | undefined);
}

/** What an app page under /_local/ may use: where the runtime listens and its issuer. */
export interface LocalPageContext {
  readonly baseUrl: string;
  /** A token from the local issuer for this runtime (as LocalRuntime.token). */
  token(opts: Omit<TokenOptions, 'port'>): string;
}

/** A page the app adds under /_local/ (a demo, say): GET only, never cached, listed at start. */
export interface LocalPage {
  /** What the start banner calls it. */
  readonly title: string;
  /** The answer, built per request (it may call the API at ctx.baseUrl). */
  render(
    ctx: LocalPageContext,
    query: URLSearchParams,
  ): Promise<{ readonly contentType: string; readonly body: string; readonly headers?: Readonly<Record<string, string>> }>;
}

export interface StartLocalOptions {
  /** Cloud assembly directory (the output of `cdk synth`). @default ./cdk.out */
  readonly assemblyDir?: string;
  /** Port of the REST API and /_local routes; 0 picks a free one. @default 3000 */
  readonly port?: number;
  /** Keep DynamoDB data (and secret values) under `<stateDir>/data` across restarts. @default false */
  readonly persist?: boolean;
  /** Git-ignored folder for issuer keys and persisted data. @default ./.local */
  readonly stateDir?: string;
  /** The app's folder: modules a bundle leaves external resolve from its package.json. @default the current directory */
  readonly appDir?: string;
  /** Stack to run when the assembly holds several. @default the only stack */
  readonly stackName?: string;
  /** @default the assembly's region when concrete, else us-east-1 */
  readonly region?: string;
  /** Runtime log lines (not function logs). @default stdout */
  readonly log?: (line: string) => void;
  /** Function log lines. @default stdout, formatted as `logFormat` says */
  readonly functionLog?: (logicalId: string, line: string) => void;
  /**
   * How function log lines are printed: `pretty` (`time LEVEL [fn] message key=value`, colour on a
   * TTY) or `json` (the raw lines, prefixed `[fn]`).
   * @default env LOCAL_LOG_FORMAT, else pretty
   */
  readonly logFormat?: 'pretty' | 'json';
  /** Start a timer per schedule rule. @default true */
  readonly schedules?: boolean;
  /** Start the event source pollers. @default true */
  readonly pollers?: boolean;
  /** Execution environments per function. @default 4 */
  readonly maxWorkersPerFunction?: number;
  /**
   * Put a fault-injecting proxy (local/faults.ts) between the functions and the emulators, driven by
   * `POST /_local/faults`; a list sets its first rules. Tests only. @default false
   */
  readonly faults?: boolean | readonly FaultRule[];
  /** The local JWT issuer's audience and tenant claim. */
  readonly issuer?: LocalIssuerOptions;
  /**
   * Variables the app adds to (or replaces in) a function's environment, e.g. to trust the local
   * issuer. The template's value of a variable returned here is not resolved.
   */
  readonly environment?: (fn: FunctionModel, ctx: FunctionEnvironmentContext) => Record<string, string>;
  /** What the status page (GET /_local/) charts from the functions' EMF metrics. @default title only */
  readonly dashboard?: DashboardOptions;
  /** App pages under /_local/: name → page, served at `/_local/<name>` (e.g. a demo). @default none */
  readonly pages?: Readonly<Record<string, LocalPage>>;
}

export interface ScheduleRunResult {
  readonly rule: string;
  readonly function: string;
  readonly result?: unknown;
  readonly error?: { readonly errorType: string; readonly errorMessage: string };
  readonly skipped?: string;
}

export interface LocalStats {
  readonly pollers: Record<string, PollerStats & { readonly queue: string; readonly function: string }>;
  readonly functions: Record<string, FunctionPool['stats']>;
  /** Stream event source mapping logical id → its figures. */
  readonly streams: Record<string, StreamPollerStats>;
}

export interface LocalRuntime {
  readonly baseUrl: string;
  readonly port: number;
  readonly stackName: string;
  readonly model: TemplateModel;
  readonly region: string;
  readonly endpoints: LocalEndpoints;
  /** Table logical id → local table name. */
  readonly tables: Record<string, string>;
  /** Queue logical id → local URL and ARN. */
  readonly queues: Record<string, { readonly url: string; readonly arn: string }>;
  stats(): LocalStats;
  runSchedules(): Promise<ScheduleRunResult[]>;
  invoke(functionLogicalId: string, event: unknown): Promise<InvocationResult>;
  /** The claim the local issuer puts the tenant in (options.issuer.tenantClaim). */
  readonly tenantClaim: string;
  readonly issuer: LocalIssuer;
  /** A token from the local issuer for this runtime's port, audience and tenant claim. */
  token(opts: Omit<TokenOptions, 'port'>): string;
  /** The template's event buses (GET /_local/bus). */
  readonly bus: import('../event-bus').LocalEventBus;
  /** The app's pages (StartLocalOptions.pages): their URL and title. */
  readonly pages: readonly { readonly url: string; readonly title: string }[];
  /** The fault proxy, when started with `faults`. */
  readonly faults?: FaultProxy;
  stop(): Promise<void>;
}
