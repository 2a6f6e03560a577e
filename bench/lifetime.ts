/**
 * The lifetime figures of one bench run: the deployed configuration's cost over the retention
 * period, the levers tried (each priced from the same measured items), and the cost against
 * retention days. The arithmetic is bench/lifetime-model.ts.
 */
import { deflateRawSync } from 'node:zlib';
import type { TableCapacityModel } from './capacity';
import type { CostReport, Pricing } from './cost-model';
import {
  breakEvenDays,
  footprintOf,
  gbMonthsPerMillion,
  itemGoal,
  lifetimeCost,
  type Footprint,
  type ItemGoal,
  type LifetimeLine,
  type LifetimeReport,
  type LifetimeSettings,
  type StoragePricing,
  type TableClass,
  type CapacityMode,
  storagePrice,
  unitPrices,
} from './lifetime-model';
import { busLifetimeLines } from './bus-cost-model';
import { countersTableOf, exportBytesPerEvent, readPathLines, type StatsQueryFigures } from './read-paths';
import type { Template } from './template';
import { storedItemBytes, unpackItem } from '../lambdas/core/payload';

/** The headline retention: the `retentionDays` default. */
export const HEADLINE_RETENTION_DAYS = 365;
/** The stated read ratio: one 100-event page through an index per 1,000 events written. */
export const READS = { pagesPerThousand: 1, eventsPerPage: 100, index: 'byUser' } as const;
/** The utilization auto scaling is assumed to hold for provisioned capacity (`provisionedTargetUtilization`'s default). */
export const PROVISIONED_UTILIZATION = 0.7;
export const RETENTION_CURVE_DAYS = [30, 90, 180, 365, 730, 1095] as const;

/** The table's class, PITR and billing mode as the template deploys them. */
export const deployedSettings = (template: Template, retentionDeletes: LifetimeSettings['retentionDeletes']): LifetimeSettings => {
  const table = Object.values(template.Resources).find((r) => r.Type === 'AWS::DynamoDB::Table' && r.Properties?.GlobalSecondaryIndexes);
  if (!table) throw new Error('no events table in the template');
  const p = table.Properties;
  return {
    retentionDays: HEADLINE_RETENTION_DAYS,
    tableClass: (p.TableClass as TableClass | undefined) ?? 'STANDARD',
    capacity:
      p.BillingMode === 'PAY_PER_REQUEST' ? { mode: 'on-demand' } : { mode: 'provisioned', utilization: targetUtilization(template) },
    pitr: p.PointInTimeRecoverySpecification?.PointInTimeRecoveryEnabled === true,
    retentionDeletes,
    reads: READS,
  };
};

/** The utilization the table's target-tracking policies aim at (`provisionedTargetUtilization`), as a share. */
const targetUtilization = (template: Template): number => {
  const targets = Object.values(template.Resources)
    .filter((r) => r.Type === 'AWS::ApplicationAutoScaling::ScalingPolicy')
    .map((r) => Number(r.Properties?.TargetTrackingScalingPolicyConfiguration?.TargetValue));
  if (targets.length === 0 || targets.some((t) => !(t > 0 && t <= 100)))
    throw new Error('a provisioned table without target-tracking policies');
  // Priced at the lowest target: the dearest of the table's and indexes' policies.
  return Math.min(...targets) / 100;
};

/** What bench/stats.ts measured of the counters, per event counted. */
export interface CounterFigures {
  /** Counter write units per event stored. */
  readonly writeUnitsPerEvent: number;
  /** Counting every event down again at the end of its retention (the month items alone). */
  readonly writeUnitsAtExpiryPerEvent?: number;
  readonly counterBytesPerEvent: number;
}

/**
 * The stats counters' lines when the template has the counters table (a table with a `STATS_TABLE_NAME`
 * function beside the events table): their write units, at the counters table's class and in
 * `capacity` (the stack bills the counters table in the events table's capacity mode), and their
 * storage (and PITR where the table has it) for the retention. The consumer's Lambda time is in the
 * ingest report already (measured).
 */
export const statsLifetimeLines = (
  template: Template,
  counters: CounterFigures,
  retentionDays: number,
  p: StoragePricing,
  capacity: CapacityMode = { mode: 'on-demand' },
): LifetimeLine[] => {
  const table = countersTableOf(template)?.properties as
    | { PointInTimeRecoverySpecification?: { PointInTimeRecoveryEnabled?: boolean }; TableClass?: TableClass }
    | undefined;
  if (!table) return [];
  const pitr = table.PointInTimeRecoverySpecification?.PointInTimeRecoveryEnabled === true;
  const tableClass = table.TableClass ?? 'STANDARD';
  const storage = storagePrice(p, tableClass);
  const write = unitPrices(p, tableClass, capacity).write;
  const gbMonths = gbMonthsPerMillion(counters.counterBytesPerEvent, retentionDays);
  return [
    { phase: 'count', service: 'DynamoDB', item: 'stats counters: write units', usdPerMillion: counters.writeUnitsPerEvent * 1e6 * write },
    {
      phase: 'count',
      service: 'DynamoDB',
      item: `stats counters: storage${pitr ? ' and PITR' : ''}`,
      usdPerMillion: gbMonths * (storage + (pitr ? p.dynamoDbPitrPerGbMonth : 0)),
    },
    ...(counters.writeUnitsAtExpiryPerEvent !== undefined
      ? [
          {
            phase: 'delete',
            service: 'DynamoDB',
            item: 'stats counters: writes at the end of retention',
            usdPerMillion: counters.writeUnitsAtExpiryPerEvent * 1e6 * write,
          },
        ]
      : []),
  ];
};

/** The same model with other index projections. */
const withProjection = (model: TableCapacityModel, projection: 'ALL' | 'KEYS_ONLY'): TableCapacityModel => ({
  ...model,
  indexes: model.indexes.map((i) => (i.name === 'byPurge' ? i : { ...i, projection })),
});

/**
 * The item as the table stored it before the envelope dictionary (lambdas/core/payload.ts): `e` as
 * it is, or `z` (deflate-raw alone) only where that saved a write unit — the levers' starting point.
 */
const packedBeforeDictionary = (stored: Record<string, unknown>): Record<string, unknown> => {
  const item = unpackItem(stored) as { e: string };
  const plain = storedItemBytes(item);
  if (plain <= 1024) return item;
  const { e, ...rest } = item;
  const packed = { ...rest, z: deflateRawSync(Buffer.from(e, 'utf8')) };
  return Math.ceil(storedItemBytes(packed) / 1024) < Math.ceil(plain / 1024) ? packed : item;
};

export interface Lever {
  readonly lever: string;
  readonly usdPerMillion: number;
  /** Against the row before. */
  readonly savedUsd: number;
  readonly note: string;
}

export interface LifetimeFigures {
  readonly deployed: LifetimeReport;
  readonly settings: LifetimeSettings;
  readonly before: LifetimeReport;
  readonly levers: Lever[];
  readonly curve: { days: number; standard: number; infrequentAccess: number; provisionedIa: number; infrequentAccessNoPitr: number }[];
  readonly iaBreakEvenDays: number | undefined;
  readonly footprint: Footprint;
  /** What the lifetime goal asks of the stored item under the deployed settings. */
  readonly goal: ItemGoal;
  /** Every combination of the choices left to the operator, priced from the same items, against both goals. */
  readonly goalGrid: GoalRow[];
}

/** One configuration of the table class, the capacity mode, PITR and the bus, at the headline retention. */
export interface GoalRow {
  readonly tableClass: TableClass;
  readonly capacity: CapacityMode['mode'];
  readonly pitr: boolean;
  readonly bus: boolean;
  /** The S3 archive's lines are in: the bus is on and the template has the archive (the `prod` stage's default). */
  readonly archive: boolean;
  /** Lifetime at the run's items. */
  readonly usdPerMillion: number;
  /**
   * The write phase alone: what `costPerMillionUsd` (the ingest) would be in this configuration —
   * the measured non-DynamoDB lines, and the run's write units re-priced (provisioned: at the stated
   * utilization, a model of a steady workload, not a measurement).
   */
  readonly writeUsdPerMillion: number;
  /** What the lifetime goal asks of the stored item in this configuration. */
  readonly goal: ItemGoal;
}

/** A configuration as the docs name it: `Standard-IA, on-demand, PITR on, bus on (no archive)`. */
export const goalRowLabel = (r: Pick<GoalRow, 'tableClass' | 'capacity' | 'pitr' | 'bus' | 'archive'>): string =>
  `${r.tableClass === 'STANDARD' ? 'Standard' : 'Standard-IA'}, ${r.capacity}, PITR ${r.pitr ? 'on' : 'off'}, ` +
  (r.bus ? `bus on${r.archive ? ', archive on' : ' (no archive)'}` : 'bus off');

/** The lifetime goal at the headline retention (issue 18). */
export const LIFETIME_GOAL_USD = 4;

/**
 * Prices the measured items (as the run's table stores them) over their lifetime: the deployed
 * configuration, and the levers applied one after the other from the configuration before them.
 */
export const lifetimeFigures = (
  ingest: CostReport,
  items: readonly Record<string, unknown>[],
  model: TableCapacityModel,
  template: Template,
  pricing: Pricing & StoragePricing,
  retentionDeletes: LifetimeSettings['retentionDeletes'],
  counters?: CounterFigures & StatsQueryFigures,
): LifetimeFigures => {
  const settings = deployedSettings(template, retentionDeletes);
  const beforeDictionary = items.map(packedBeforeDictionary);
  const foot = (projection: 'ALL' | 'KEYS_ONLY', dict = true) =>
    footprintOf(withProjection(model, projection), dict ? items : beforeDictionary);
  // Publishing, the archive and the stats counters, when the template has them: the same for every
  // configuration of the table. The publisher's Lambda time is in the ingest report when the run
  // measured it; the bus model's estimate of it is then left out.
  const isPublisher = (l: { service: string; item: string }) => l.service === 'Lambda' && /publish/i.test(l.item);
  const publisherMeasured = ingest.lines.some(isPublisher);
  const busLines = busLifetimeLines(template).filter((l) => !(publisherMeasured && isPublisher(l)));
  // The counters table is billed in the events table's capacity mode, and kept for the same retention.
  const statsLines = (s: LifetimeSettings) =>
    counters ? statsLifetimeLines(template, counters, s.retentionDays, pricing, s.capacity) : [];
  // `bus: false` prices the stack without the bus (`busPublishing=off`): no publisher, no archive.
  const withoutPublisher = { ...ingest, lines: ingest.lines.filter((l) => !isPublisher(l)) };
  // The stats queries, exports and digests read at stated ratios (bench/read-paths.ts).
  const exportBytes = exportBytesPerEvent(items);
  const price = (f: Footprint, s: Partial<LifetimeSettings> = {}, { bus = true }: { bus?: boolean } = {}) => {
    const all = { ...settings, ...s };
    const extra = [...statsLines(all), ...readPathLines(template, f, all, pricing, exportBytes, counters)];
    return lifetimeCost(bus ? ingest : withoutPublisher, f, all, pricing, bus ? [...busLines, ...extra] : extra);
  };
  const storedFoot = footprintOf(model, items);
  const deployed = price(storedFoot);

  const before: LifetimeSettings = {
    ...settings,
    tableClass: 'STANDARD',
    capacity: { mode: 'on-demand' },
    pitr: true,
    retentionDeletes: 'cleanup',
  };
  const provisioned = { mode: 'provisioned', utilization: PROVISIONED_UTILIZATION } as const;
  // The two last rows (PITR off, then the bus off too) share these settings.
  const withoutPitr: Partial<LifetimeSettings> = {
    ...before,
    retentionDeletes: 'ttl',
    tableClass: 'STANDARD_INFREQUENT_ACCESS',
    capacity: provisioned,
    pitr: false,
  };
  const steps: [string, Footprint, Partial<LifetimeSettings>, string, { bus?: boolean }?][] = [
    [
      'before: full index copies (ALL), deflate only where it saves a write unit, Standard, on-demand, the cleanup deletes at expiry',
      foot('ALL', false),
      before,
      '',
    ],
    [
      'index projections KEYS_ONLY (+ one BatchGetItem per page)',
      foot('KEYS_ONLY', false),
      before,
      'a page through an index reads ~50 more read units',
    ],
    [
      'every event deflated against a preset dictionary of the event envelope',
      foot('KEYS_ONLY'),
      before,
      'the items as this run stored them: smaller wherever deflating shrinks the event',
    ],
    ['retention deletes left to TTL (free), the cleanup as backstop', foot('KEYS_ONLY'), { ...before, retentionDeletes: 'ttl' }, ''],
    [
      'Standard-IA table class',
      foot('KEYS_ONLY'),
      { ...before, retentionDeletes: 'ttl', tableClass: 'STANDARD_INFREQUENT_ACCESS' },
      'writes 25 % dearer',
    ],
    [
      `provisioned capacity, auto scaling at ${PROVISIONED_UTILIZATION * 100} % (steady workloads only)`,
      foot('KEYS_ONLY'),
      {
        ...before,
        retentionDeletes: 'ttl',
        tableClass: 'STANDARD_INFREQUENT_ACCESS',
        capacity: provisioned,
      },
      'an option (`capacityMode=provisioned`), not a default: pays for idle capacity when traffic is bursty',
    ],
    [
      'point-in-time recovery off',
      foot('KEYS_ONLY'),
      withoutPitr,
      'an option (`pointInTimeRecovery=off`), not a default: no restore to a second of the last 35 days',
    ],
    ...(busLines.length > 0
      ? [
          [
            'event bus off: no publishing, no archive',
            foot('KEYS_ONLY'),
            withoutPitr,
            'an option (`busPublishing=off`), not a default: downstream consumers and the S3 archive read the bus',
            { bus: false },
          ] as (typeof steps)[number],
        ]
      : []),
  ];
  const levers: Lever[] = [];
  let last: number | undefined;
  for (const [lever, f, s, note, options] of steps) {
    const usd = price(f, s, options).usdPerMillion;
    levers.push({ lever, usdPerMillion: usd, savedUsd: last === undefined ? 0 : last - usd, note });
    last = usd;
  }
  // Every combination of the four choices, at the headline retention, against both goals: which of
  // them meet the goals at the run's items, and which could at any item size (ItemGoal).
  // Provisioned at the deployed target when the stage is provisioned, so one row is the deployed configuration.
  const gridProvisioned = settings.capacity.mode === 'provisioned' ? settings.capacity : provisioned;
  const hasArchive = busLines.some((l) => l.phase === 'archive');
  const goalGrid: GoalRow[] = [];
  for (const tableClass of ['STANDARD', 'STANDARD_INFREQUENT_ACCESS'] as const)
    for (const capacity of [{ mode: 'on-demand' } as const, gridProvisioned])
      for (const pitr of [true, false])
        for (const bus of busLines.length > 0 ? [true, false] : [false]) {
          const s: LifetimeSettings = { ...settings, tableClass, capacity, pitr };
          const report = price(storedFoot, s, { bus });
          goalGrid.push({
            tableClass,
            capacity: capacity.mode,
            pitr,
            bus,
            archive: bus && hasArchive,
            usdPerMillion: report.usdPerMillion,
            writeUsdPerMillion: report.lines.filter((l) => l.phase === 'write').reduce((sum, l) => sum + l.usdPerMillion, 0),
            goal: itemGoal(report, storedFoot, s, pricing, LIFETIME_GOAL_USD),
          });
        }
  const at = (days: number, tableClass: TableClass, capacity: LifetimeSettings['capacity'] = { mode: 'on-demand' }, pitr = true) =>
    price(storedFoot, { retentionDays: days, tableClass, capacity, pitr }).usdPerMillion;
  return {
    deployed,
    settings,
    before: price(steps[0]![1], steps[0]![2]),
    levers,
    curve: RETENTION_CURVE_DAYS.map((days) => ({
      days,
      standard: at(days, 'STANDARD'),
      infrequentAccess: at(days, 'STANDARD_INFREQUENT_ACCESS'),
      provisionedIa: at(days, 'STANDARD_INFREQUENT_ACCESS', provisioned),
      infrequentAccessNoPitr: at(days, 'STANDARD_INFREQUENT_ACCESS', { mode: 'on-demand' }, false),
    })),
    iaBreakEvenDays: breakEvenDays((c, days) => at(days, c === 'a' ? 'STANDARD' : 'STANDARD_INFREQUENT_ACCESS')),
    footprint: storedFoot,
    goal: itemGoal(deployed, storedFoot, settings, pricing, LIFETIME_GOAL_USD),
    goalGrid,
  };
};
