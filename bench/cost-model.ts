/** Turns measured counts of one workload into dollars per million events, line by line. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Pricing {
  readonly apiGatewayRestPerMillionRequests: number;
  readonly lambdaArmPerGbSecond: number;
  readonly lambdaPerMillionRequests: number;
  readonly sqsStandardPerMillionRequests: number;
  readonly sqsBillingChunkBytes: number;
  readonly dynamoDbOnDemandPerMillionWriteUnits: number;
  readonly dynamoDbOnDemandPerMillionReadUnits: number;
  readonly cloudWatchLogsIngestionPerGb: number;
  readonly xrayPerMillionTracesRecorded: number;
  readonly xraySampling: { readonly reservoirPerSecond: number; readonly fixedRate: number };
  readonly checked: string;
  readonly sources: Record<string, string>;
}

export const loadPricing = (file = join(__dirname, 'pricing.json')): Pricing => JSON.parse(readFileSync(file, 'utf8')) as Pricing;

export interface FunctionCounts {
  readonly invocations: number;
  /** Sum of the handler durations, ms (Lambda bills each invocation rounded up to 1 ms). */
  readonly durationMs: number;
  readonly memoryMb: number;
}

/** What one workload cost in requests and units, as measured. */
export interface WorkloadCounts {
  readonly events: number;
  readonly apiRequests: number;
  readonly functions: Record<string, FunctionCounts>;
  /** SQS billed requests (64 KB chunks), by API action. */
  readonly sqsRequests: Record<string, number>;
  /** DynamoDB write request units, by table / index. */
  readonly writeUnits: Record<string, number>;
  readonly readUnits: number;
  readonly logBytes: number;
  readonly tracedRequests: number;
}

export interface CostLine {
  readonly service: string;
  readonly item: string;
  /** Quantity per million events (requests, GB-s, units, GB). */
  readonly perMillion: number;
  readonly unit: string;
  readonly usdPerMillion: number;
}

export interface CostReport {
  readonly lines: CostLine[];
  readonly usdPerMillion: number;
}

/** X-Ray traces recorded for n API requests under the default rule (5% beyond the 1 req/s reservoir). */
export const tracedRequests = (pricing: Pricing, apiRequests: number): number => apiRequests * pricing.xraySampling.fixedRate;

export const costPerMillion = (counts: WorkloadCounts, pricing: Pricing): CostReport => {
  const scale = 1_000_000 / counts.events;
  const lines: CostLine[] = [];
  const add = (service: string, item: string, quantity: number, unit: string, unitPrice: number) => {
    const perMillion = quantity * scale;
    lines.push({ service, item, perMillion, unit, usdPerMillion: perMillion * unitPrice });
  };
  add('API Gateway', 'REST requests', counts.apiRequests, 'requests', pricing.apiGatewayRestPerMillionRequests / 1e6);
  for (const [name, f] of Object.entries(counts.functions)) {
    add('Lambda', `${name} requests`, f.invocations, 'requests', pricing.lambdaPerMillionRequests / 1e6);
    add('Lambda', `${name} duration (${f.memoryMb} MB)`, (f.durationMs / 1000) * (f.memoryMb / 1024), 'GB-s', pricing.lambdaArmPerGbSecond);
  }
  for (const [action, n] of Object.entries(counts.sqsRequests)) add('SQS', action, n, 'requests', pricing.sqsStandardPerMillionRequests / 1e6);
  for (const [target, n] of Object.entries(counts.writeUnits)) add('DynamoDB', `write units: ${target}`, n, 'WRU', pricing.dynamoDbOnDemandPerMillionWriteUnits / 1e6);
  if (counts.readUnits > 0) add('DynamoDB', 'read units', counts.readUnits, 'RRU', pricing.dynamoDbOnDemandPerMillionReadUnits / 1e6);
  add('CloudWatch Logs', 'ingestion', counts.logBytes / 1024 ** 3, 'GB', pricing.cloudWatchLogsIngestionPerGb);
  add('X-Ray', 'traces recorded', counts.tracedRequests, 'traces', pricing.xrayPerMillionTracesRecorded / 1e6);
  return { lines, usdPerMillion: lines.reduce((sum, l) => sum + l.usdPerMillion, 0) };
};

/** SQS requests billed for one call carrying `bytes` of payload: one per started 64 KB. */
export const sqsBilled = (pricing: Pricing, bytes: number): number => Math.max(1, Math.ceil(bytes / pricing.sqsBillingChunkBytes));
