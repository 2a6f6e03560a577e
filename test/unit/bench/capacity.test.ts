import { capacityModelFromTemplate, itemSize, queryReadUnits, writeUnits } from '../../../bench/capacity';
import {
  accessLogLine,
  apiTelemetryFromTemplate,
  costPerMillion,
  loadPricing,
  sqsBilled,
  STANDARD_ACCESS_LOG_FORMAT,
} from '../../../bench/cost-model';
import { benchIngestCpu } from '../../../bench/ingest-cpu';
import { makeEvents, percentile } from '../../../bench/workload';

const template = {
  Resources: {
    Table: {
      Type: 'AWS::DynamoDB::Table',
      Properties: {
        KeySchema: [
          { AttributeName: 'pk', KeyType: 'HASH' },
          { AttributeName: 'sk', KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: [
          {
            IndexName: 'byUser',
            KeySchema: [
              { AttributeName: 'u', KeyType: 'HASH' },
              { AttributeName: 'sk', KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
          {
            IndexName: 'byPurge',
            KeySchema: [
              { AttributeName: 'p', KeyType: 'HASH' },
              { AttributeName: 'd', KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'KEYS_ONLY' },
          },
        ],
      },
    },
  },
};

describe('DynamoDB capacity from item sizes', () => {
  it('sizes attributes by the documented rules: names + UTF-8 strings, numbers by digits, binary by bytes', () => {
    expect(itemSize({ pk: 'abc' })).toBe(2 + 3);
    expect(itemSize({ s: 'é' })).toBe(1 + 2);
    expect(itemSize({ x: 1_900_000_000 })).toBe(1 + (Math.ceil(2 / 2) + 1));
    expect(itemSize({ n: 123456 })).toBe(1 + 4);
    expect(itemSize({ z: new Uint8Array(10) })).toBe(1 + 10);
    expect(itemSize({ m: { a: 'b' } })).toBe(1 + 3 + 1 + 1 + 1);
  });

  it('charges 1 unit per started KB in the table and in each index holding the item; sparse indexes cost nothing', () => {
    const model = capacityModelFromTemplate(template);
    const small = { pk: 't#0', sk: 'id', u: 'user', e: 'x'.repeat(900) };
    expect(writeUnits(model, small)).toMatchObject({ table: 1, indexes: { byUser: 1, byPurge: 0 }, total: 2 });
    const big = { ...small, e: 'x'.repeat(1100) };
    expect(writeUnits(model, big)).toMatchObject({ table: 2, indexes: { byUser: 2, byPurge: 0 }, total: 4 });
    // KEYS_ONLY: the index entry holds only the keys, however big the item.
    expect(writeUnits(model, { ...big, p: 'D#0', d: 1 }).indexes.byPurge).toBe(1);
    expect(queryReadUnits([small, small])).toBe(0.5);
  });
});

describe('cost model', () => {
  const pricing = loadPricing();

  it('keeps a dated pricing table with its sources', () => {
    expect(pricing.checked).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(Object.keys(pricing.sources).length).toBeGreaterThanOrEqual(5);
    expect(sqsBilled(pricing, 1)).toBe(1);
    expect(sqsBilled(pricing, 64 * 1024 + 1)).toBe(2);
  });

  it('scales measured counts to a million events, line by line', () => {
    const report = costPerMillion(
      {
        events: 1000,
        apiRequests: 20,
        functions: { Ingest: { invocations: 20, durationMs: 2000, memoryMb: 1024 } },
        sqsRequests: { SendMessageBatch: 100 },
        writeUnits: { table: 1000 },
        readUnits: 0,
        logBytes: { 'function logs': 1024 ** 3 / 1000 },
        tracedRequests: 1,
      },
      pricing,
    );
    const line = (item: string) => report.lines.find((l) => l.item === item)!;
    expect(line('REST requests').usdPerMillion).toBeCloseTo(0.07);
    expect(line('Ingest duration (1024 MB)').perMillion).toBeCloseTo(2000);
    expect(line('write units: table').usdPerMillion).toBeCloseTo(0.625);
    expect(line('function logs').usdPerMillion).toBeCloseTo(0.5);
    expect(report.usdPerMillion).toBeCloseTo(report.lines.reduce((s, l) => s + l.usdPerMillion, 0));
  });

  it("reads the access log format and the X-Ray rate from the template, with X-Ray's default rate when no rule matches", () => {
    const stage = {
      Type: 'AWS::ApiGateway::Stage',
      Properties: { AccessLogSetting: { Format: '{"id":"$context.requestId","status":"$context.status"}' } },
    };
    const rule = {
      Type: 'AWS::XRay::SamplingRule',
      Properties: { SamplingRule: { ServiceType: 'AWS::ApiGateway::Stage', FixedRate: 0.01 } },
    };
    expect(apiTelemetryFromTemplate({ Resources: { stage, rule } }, pricing)).toEqual({
      accessLogFormat: stage.Properties.AccessLogSetting.Format,
      traceSampleRate: 0.01,
    });
    expect(apiTelemetryFromTemplate({ Resources: { stage } }, pricing).traceSampleRate).toBe(pricing.xraySampling.fixedRate);
    expect(() => apiTelemetryFromTemplate({ Resources: { rule } }, pricing)).toThrow(/one API stage/);
  });

  it('renders an access log line from the format, and refuses a variable it has no sample for', () => {
    const line = JSON.parse(accessLogLine(STANDARD_ACCESS_LOG_FORMAT)) as Record<string, string>;
    expect(line).toMatchObject({ httpMethod: 'POST', resourcePath: '/v1/events', status: '202' });
    expect(Object.values(line).join(' ')).not.toContain('$context');
    expect(() => accessLogLine('{"x":"$context.somethingNew"}')).toThrow(/somethingNew/);
  });
});

describe('workload and ingest CPU', () => {
  it('makes ~1 KB events', () => {
    const sizes = makeEvents(50).map((e) => JSON.stringify(e).length);
    expect(Math.min(...sizes)).toBeGreaterThan(1000);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(1030);
    expect(percentile([3, 1, 2], 50)).toBe(2);
  });

  it('measures the ingest core against the JSON floor', async () => {
    const result = await benchIngestCpu({ requests: 4, rounds: 1 });
    expect(result.ingestUsPerEvent).toBeGreaterThan(0);
    expect(result.ingestVsJsonFloor).toBeGreaterThan(0);
  });
});
