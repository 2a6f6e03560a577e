/** Turns measured counts of one workload into dollars per million events, line by line. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import type { StoragePricing } from './lifetime-model';
import type { Template } from './template';

/** bench/pricing.json: what ingest needs, and what keeping events needs (StoragePricing). */
export interface Pricing extends StoragePricing {
  readonly apiGatewayRestPerMillionRequests: number;
  readonly lambdaArmPerGbSecond: number;
  readonly lambdaPerMillionRequests: number;
  readonly sqsStandardPerMillionRequests: number;
  readonly sqsBillingChunkBytes: number;
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
  /** CloudWatch Logs bytes ingested (with the 26 bytes per log event), by source. */
  readonly logBytes: Record<string, number>;
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

/** X-Ray traces recorded for n API requests at a sampling rate (beyond the 1 req/s reservoir, a fixed cost per second). */
export const tracedRequests = (traceSampleRate: number, apiRequests: number): number => apiRequests * traceSampleRate;

/** `writeUnitUsd`: the price of one write unit in the table's class and capacity mode (default: Standard, on-demand). */
export const costPerMillion = (
  counts: WorkloadCounts,
  pricing: Pricing,
  writeUnitUsd = pricing.dynamoDbOnDemandPerMillionWriteUnits / 1e6,
): CostReport => {
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
  for (const [action, n] of Object.entries(counts.sqsRequests))
    add('SQS', action, n, 'requests', pricing.sqsStandardPerMillionRequests / 1e6);
  for (const [target, n] of Object.entries(counts.writeUnits)) add('DynamoDB', `write units: ${target}`, n, 'WRU', writeUnitUsd);
  if (counts.readUnits > 0) add('DynamoDB', 'read units', counts.readUnits, 'RRU', pricing.dynamoDbOnDemandPerMillionReadUnits / 1e6);
  for (const [source, bytes] of Object.entries(counts.logBytes))
    add('CloudWatch Logs', source, bytes / 1024 ** 3, 'GB', pricing.cloudWatchLogsIngestionPerGb);
  add('X-Ray', 'traces recorded', counts.tracedRequests, 'traces', pricing.xrayPerMillionTracesRecorded / 1e6);
  return { lines, usdPerMillion: lines.reduce((sum, l) => sum + l.usdPerMillion, 0) };
};

/** SQS requests billed for one call carrying `bytes` of payload: one per started 64 KB. */
export const sqsBilled = (pricing: Pricing, bytes: number): number => Math.max(1, Math.ceil(bytes / pricing.sqsBillingChunkBytes));

/** CloudWatch Logs bills each log event's bytes plus 26 bytes of overhead. */
export const LOG_EVENT_OVERHEAD = 26;

const REQUEST_ID = '0f6e6a4c-2f5b-4a8e-9c0d-3b1e2d4f5a6b';
/**
 * The lines Lambda itself writes per invocation (text format), which local mode does not print:
 * START, END and REPORT, the last with the X-Ray fields of a traced invocation.
 */
export const PLATFORM_LINES = [
  `START RequestId: ${REQUEST_ID} Version: $LATEST`,
  `END RequestId: ${REQUEST_ID}`,
  `REPORT RequestId: ${REQUEST_ID}\tDuration: 12.34 ms\tBilled Duration: 13 ms\tMemory Size: 512 MB\tMax Memory Used: 96 MB\t\n` +
    'XRAY TraceId: 1-67a1b2c3-0123456789abcdef01234567\tSegmentId: 0123456789abcdef\tSampled: true\t',
];
export const platformLogBytesPerInvocation = (): number =>
  PLATFORM_LINES.reduce((sum, line) => sum + Buffer.byteLength(line) + LOG_EVENT_OVERHEAD, 0);

/** Sample values of the `$context` variables an access log format may use (a POST /v1/events answered 202). */
const CONTEXT_SAMPLES: Readonly<Record<string, string>> = {
  requestId: REQUEST_ID,
  extendedRequestId: 'CzBxWFb0IAMEbXw=',
  'identity.sourceIp': '203.0.113.7',
  'identity.caller': '-',
  'identity.user': '-',
  'identity.userAgent': 'bench/1.0 (node)',
  requestTime: '21/Nov/2026:12:00:00 +0000',
  requestTimeEpoch: '1795262400000',
  httpMethod: 'POST',
  resourcePath: '/v1/events',
  path: '/prod/v1/events',
  status: '202',
  protocol: 'HTTP/1.1',
  responseLength: '2911',
  responseLatency: '45',
  'integration.latency': '41',
  xrayTraceId: '1-67a1b2c3-0123456789abcdef01234567',
};

/**
 * One access log line as API Gateway renders `format` (the stage's AccessLogSetting.Format) for
 * a POST /v1/events answered 202. A variable without a sample value is an error, so a new field
 * in the format cannot go uncounted.
 */
export const accessLogLine = (format: string): string =>
  format.replace(/\$context\.([A-Za-z.]+)/g, (_, name: string) => {
    const value = CONTEXT_SAMPLES[name];
    if (value === undefined) throw new Error(`no sample value for $context.${name} in the access log format`);
    return value;
  });

export const accessLogBytesPerRequest = (format: string): number => Buffer.byteLength(accessLogLine(format)) + LOG_EVENT_OVERHEAD;

/** API Gateway's standard JSON access log fields, as a typical sample uses. */
export const STANDARD_ACCESS_LOG_FORMAT = AccessLogFormat.jsonWithStandardFields().toString();

/** What a configuration logs and traces per API request. */
export interface ApiTelemetry {
  /** The stage's access log format. */
  readonly accessLogFormat: string;
  /** Share of API requests X-Ray traces (beyond the 1 req/s reservoir). */
  readonly traceSampleRate: number;
}

/**
 * The stack's own access log format and X-Ray rate, from the synthesized template: the stage's
 * AccessLogSetting and the sampling rule for API Gateway stages (X-Ray's default rate without one).
 */
export const apiTelemetryFromTemplate = (template: Template, pricing: Pricing): ApiTelemetry => {
  const resources = Object.values(template.Resources);
  const stages = resources.filter((r) => r.Type === 'AWS::ApiGateway::Stage');
  if (stages.length !== 1) throw new Error(`expected one API stage in the template, found ${stages.length}`);
  const format = stages[0]!.Properties?.AccessLogSetting?.Format;
  if (typeof format !== 'string') throw new Error('the API stage has no access log format');
  const rule = resources.find(
    (r) => r.Type === 'AWS::XRay::SamplingRule' && r.Properties?.SamplingRule?.ServiceType === 'AWS::ApiGateway::Stage',
  );
  return { accessLogFormat: format, traceSampleRate: Number(rule?.Properties?.SamplingRule?.FixedRate ?? pricing.xraySampling.fixedRate) };
};

/**
 * The digests' cost (issue 16), apart from the per-event model: one KMS Sign and one S3 PUT per
 * tenant and period that stored or removed anything, one scheduled run per period. List prices
 * (us-east-1): KMS asymmetric requests $0.15 per 10,000, S3 PUT $0.005 per 1,000, a 512 MB Lambda
 * run of ~2 s. The reads of the sealer (each event read once, eventually consistent) are the
 * event's own read cost, counted per event.
 */
export const digestCostPerMillionEvents = ({
  tenants,
  eventsPerMonth,
  periodMinutes = 60,
}: {
  readonly tenants: number;
  readonly eventsPerMonth: number;
  readonly periodMinutes?: number;
}): { readonly perMillion: number; readonly perMonth: number } => {
  const periods = (30 * 24 * 60) / periodMinutes;
  const digests = tenants * periods;
  const perMonth = digests * (0.15 / 10_000) + digests * (0.005 / 1_000) + periods * 2 * 0.5 * 0.0000166667;
  // The sealer's Query reads ~1 KB per event: a quarter of 4 KB at half a read unit (eventually consistent), $0.25 per million.
  const readPerEvent = 0.25 * 0.5 * (0.25 / 1_000_000);
  return { perMonth, perMillion: (perMonth / eventsPerMonth) * 1_000_000 + readPerEvent * 1_000_000 };
};
