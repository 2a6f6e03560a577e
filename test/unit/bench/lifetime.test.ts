import { statsLifetimeLines } from '../../../bench/lifetime';
import type { Template } from '../../../bench/template';

const prices = { dynamoDbStoragePerGbMonth: 0.25, dynamoDbPitrPerGbMonth: 0.2 };
/** 10.73741824 bytes per event: 0.01 GB per million events (2^30-byte GB). */
const counters = { counterWritesPerMillionUsd: 0.444, counterBytesPerEvent: 10.73741824 };

const template = (pitr: boolean, withConsumer = true): Template => ({
  Resources: {
    Events: { Type: 'AWS::DynamoDB::Table', Properties: { GlobalSecondaryIndexes: [{ IndexName: 'byUser' }] } },
    Counters: {
      Type: 'AWS::DynamoDB::Table',
      Properties: { PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: pitr } },
    },
    ...(withConsumer && {
      Consumer: {
        Type: 'AWS::Lambda::Function',
        Properties: { Environment: { Variables: { STATS_TABLE_NAME: { Ref: 'Counters' } } } },
      },
    }),
  },
});

describe('lifetime: the stats counters’ lines', () => {
  it('adds the counters’ writes and a year of their storage with PITR: 0.01 GB × 12 months × $0.45', () => {
    const lines = statsLifetimeLines(template(true), counters, 365, prices);
    expect(lines.map((l) => l.item)).toEqual(['stats counters: write units', 'stats counters: storage and PITR']);
    expect(lines[0]!.usdPerMillion).toBe(0.444);
    expect(lines[1]!.usdPerMillion).toBeCloseTo(0.054, 9);
  });

  it('prices storage alone where the counters table has no PITR, for the retention given', () => {
    const [, storage] = statsLifetimeLines(template(false), counters, 730, prices);
    expect(storage!.item).toBe('stats counters: storage');
    expect(storage!.usdPerMillion).toBeCloseTo(0.01 * 24 * 0.25, 9);
  });

  it('adds counting every event down at the end of its retention where the run measured it', () => {
    const lines = statsLifetimeLines(template(true), { ...counters, counterWritesAtExpiryPerMillionUsd: 0.46 }, 365, prices);
    expect(lines[2]).toEqual({
      phase: 'delete',
      service: 'DynamoDB',
      item: 'stats counters: counted down at the end of retention',
      usdPerMillion: 0.46,
    });
    expect(statsLifetimeLines(template(true), counters, 365, prices)).toHaveLength(2);
  });

  it('adds nothing to a template without a counters table named by a function', () => {
    expect(statsLifetimeLines(template(true, false), counters, 365, prices)).toEqual([]);
  });
});
