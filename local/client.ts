/**
 * A client of a running local stack, over its /_local routes (in-process or in a child process
 * alike): what it runs, tokens from its issuer, counters, schedules on demand and its clock.
 */
import { resolve } from 'node:path';
import { loadOrCreateIssuerKeys, prefixScopes, signToken, type TokenOptions } from './issuer';
import type { LocalEndpoints, LocalStats, ScheduleRunResult } from './runtime/types';

/** GET /_local/health. */
export interface LocalHealth {
  readonly stack: string;
  readonly region: string;
  readonly endpoints: LocalEndpoints;
  /** Table logical id → local table name. */
  readonly tables: Record<string, string>;
  /** Bucket logical id → local bucket name (in fauxqs's S3, at endpoints.s3). */
  readonly buckets: Record<string, string>;
  /** KMS key logical id → local key id (at endpoints.kms). */
  readonly kmsKeys: Record<string, string>;
  /** Queue logical id → URL and ARN. */
  readonly queues: Record<string, { readonly url: string; readonly arn: string }>;
  readonly functions: string[];
  readonly routes: string[];
  readonly issuer: {
    readonly issuer: string;
    readonly audience: string;
    readonly jwksUri: string;
    readonly tenantClaim: string;
    /** Put before each scope of a token that has none (LocalIssuerOptions.scopePrefix). */
    readonly scopePrefix?: string;
  };
}

export interface LocalClient {
  readonly baseUrl: string;
  readonly port: number;
  readonly health: LocalHealth;
  /** A token from the local issuer, valid for this stack (its port is in `iss`, its audience in `aud`); follows the clock offset. */
  token(opts: Omit<TokenOptions, 'port'>): string;
  /** POST /_local/schedules/run. */
  runSchedules(): Promise<ScheduleRunResult[]>;
  /** Poller and function counters (GET /_local/stats). */
  stats(): Promise<LocalStats>;
  /** Moves the functions' clock to real time + offsetMs (POST /_local/clock); tokens follow it. */
  setClockOffset(offsetMs: number): Promise<void>;
}

/** The /_local write routes take JSON only (runtime/request-guard.ts); fetch would send text/plain. */
const JSON_CONTENT = { 'content-type': 'application/json' };

const getJson = async <T>(url: string, init?: RequestInit): Promise<T> => {
  let res: Response;
  try {
    res = await fetch(url, init).catch(async (error: unknown) => {
      // A keep-alive socket the server closed just as it was reused: one retry for reads.
      if ((init?.method ?? 'GET') !== 'GET') throw error;
      await new Promise((resolve) => setTimeout(resolve, 200));
      return fetch(url, init);
    });
  } catch (error) {
    // Name the cause (undici says only "fetch failed"), e.g. a reset keep-alive socket.
    throw new Error(`${init?.method ?? 'GET'} ${url}: ${String((error as { cause?: unknown }).cause ?? error)}`, { cause: error });
  }
  if (!res.ok) throw new Error(`${init?.method ?? 'GET'} ${url}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
};

/** Connects to the stack at baseUrl; `stateDir` holds the issuer keys it uses (@default ./.local). */
export const connectLocal = async (baseUrl: string, { stateDir }: { readonly stateDir?: string } = {}): Promise<LocalClient> => {
  const health = await getJson<LocalHealth>(`${baseUrl}/_local/health`);
  const port = Number(new URL(baseUrl).port);
  let clockOffset = 0;
  const keys = loadOrCreateIssuerKeys(stateDir ? resolve(stateDir) : undefined);
  return {
    baseUrl,
    port,
    health,
    token: (t) =>
      signToken(keys, {
        now: new Date(Date.now() + clockOffset),
        aud: health.issuer.audience,
        ...t,
        scope: prefixScopes(t.scope, health.issuer.scopePrefix),
        port,
      }),
    setClockOffset: async (offsetMs) => {
      await getJson(`${baseUrl}/_local/clock`, { method: 'POST', headers: JSON_CONTENT, body: JSON.stringify({ offsetMs }) });
      clockOffset = offsetMs;
    },
    runSchedules: async () =>
      (await getJson<{ results: ScheduleRunResult[] }>(`${baseUrl}/_local/schedules/run`, { method: 'POST' })).results,
    stats: () => getJson<LocalStats>(`${baseUrl}/_local/stats`),
  };
};
