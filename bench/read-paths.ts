/**
 * The lifetime model's read paths beside the query pages (bench/lifetime-model.ts prices those):
 * the stats queries, the exports and the digests' sealer, each where the template has it, at
 * stated ratios. Read units follow DynamoDB's rules: a Query sums the items it reads and bills
 * eventually consistent reads at half a unit per 4 KB.
 */
import { gzipSync } from 'node:zlib';
import { unpackItem } from '../lambdas/core/payload';
import { PRICES } from './bus-cost-model';
import { digestCostPerMillionEvents, type Pricing } from './cost-model';
import { DAYS_PER_MONTH, type Footprint, type LifetimeLine, type LifetimeSettings, type TableClass, unitPrices } from './lifetime-model';
import type { Template } from './template';

const GB = 1024 ** 3;

/** The stated ratios and assumptions of the read paths (per 1,000 events written, like the query pages). */
export const READ_PATHS = {
  /** `GET /v1/stats` calls (30 days by day, top 10: what bench/stats.ts measures) per 1,000 events written. */
  statsQueriesPerThousand: 1,
  /** Exports per 1,000 events written, of `eventsPerExport` events each: a tenth of the events exported once, the share the query pages read. */
  exportsPerThousand: 0.1,
  eventsPerExport: 1_000,
  /** The tenants and monthly volume the digests' signatures (one per tenant and period) are spread over. */
  digestTenants: 100,
  digestEventsPerMonth: 100_000_000,
  /** Lambda time of one read call (a page, a stats query, an export's request, download or run), at 512 MB. */
  lambdaMsPerCall: 100,
} as const;

/** Bytes per event of the run's events as an export writes them: NDJSON, gzip. */
export const exportBytesPerEvent = (items: readonly Record<string, unknown>[]): number => {
  if (items.length === 0) throw new Error('no items to measure');
  const ndjson = items.map((item) => (unpackItem(item) as { e: string }).e).join('\n');
  return gzipSync(Buffer.from(`${ndjson}\n`, 'utf8')).length / items.length;
};

/** The functions' environment variables, merged (a template names each feature's resources there). */
const functionEnv = (template: Template): Record<string, unknown>[] =>
  Object.values(template.Resources)
    .filter((r) => r.Type === 'AWS::Lambda::Function')
    .map((r) => (r.Properties?.Environment?.Variables ?? {}) as Record<string, unknown>);

/** The counters table's logical id and properties: a table without indexes that a function names in `STATS_TABLE_NAME`. */
export const countersTableOf = (template: Template): { id: string; properties: Record<string, unknown> } | undefined => {
  const named = new Set(
    functionEnv(template).flatMap((vars) => {
      const ref = vars.STATS_TABLE_NAME;
      return ref && typeof ref === 'object' && 'Ref' in ref ? [ref.Ref as string] : [];
    }),
  );
  const found = Object.entries(template.Resources).find(
    ([id, r]) => r.Type === 'AWS::DynamoDB::Table' && !r.Properties?.GlobalSecondaryIndexes && named.has(id),
  );
  return found && { id: found[0], properties: (found[1].Properties ?? {}) as Record<string, unknown> };
};

/** What the stats bench read for its 30-day top 10, when the run measured it. */
export interface StatsQueryFigures {
  readonly top10Over30Days?: { readonly readUnits: number };
}

/**
 * The read paths' lines for a million events written under `s`: stats queries (when `stats` has
 * the measured read units and a function reads a counters table), exports (when a function has an
 * export bucket), the digests' sealer (when one has a digest bucket), and the Lambda time of every
 * read call including the query pages.
 */
export const readPathLines = (
  template: Template,
  f: Footprint,
  s: LifetimeSettings,
  p: Pricing,
  exportBytes: number,
  stats?: StatsQueryFigures,
): LifetimeLine[] => {
  const lines: LifetimeLine[] = [];
  const add = (phase: string, service: string, item: string, usdPerMillion: number) => lines.push({ phase, service, item, usdPerMillion });
  const env = functionEnv(template);
  const has = (name: string) => env.some((vars) => vars[name] !== undefined);
  const perThousand = (n: number) => (n / 1000) * 1e6;
  const read = unitPrices(p, s.tableClass, s.capacity).read;
  // Reading every event once through the tenant timeline: the item's share of a 4 KB unit, eventually consistent.
  const unitsPerEventRead = f.itemBytes / 4096 / 2;
  let calls = perThousand(s.reads.pagesPerThousand);

  const statsUnits = stats?.top10Over30Days?.readUnits;
  const counters = countersTableOf(template);
  if (statsUnits !== undefined && counters) {
    const statsTableClass = (counters.properties.TableClass as TableClass | undefined) ?? 'STANDARD';
    const queries = perThousand(READ_PATHS.statsQueriesPerThousand);
    calls += queries;
    add('read', 'API Gateway', 'stats queries', (queries * p.apiGatewayRestPerMillionRequests) / 1e6);
    add(
      'read',
      'DynamoDB',
      'stats counters: read units (30-day top 10)',
      queries * statsUnits * unitPrices(p, statsTableClass, s.capacity).read,
    );
  }

  if (has('EXPORT_BUCKET')) {
    const exportCount = perThousand(READ_PATHS.exportsPerThousand);
    const exported = exportCount * READ_PATHS.eventsPerExport;
    const expiry = env.map((vars) => Number(vars.EXPORT_EXPIRY_DAYS)).find((d) => d > 0) ?? 7;
    const gb = (exported * exportBytes) / GB;
    // Each export: POST and GET, the worker's run, the file downloaded once.
    calls += exportCount * 3;
    add('export', 'API Gateway', 'export requests (POST and GET)', (exportCount * 2 * p.apiGatewayRestPerMillionRequests) / 1e6);
    add('export', 'DynamoDB', 'read units (the exported events)', exported * unitsPerEventRead * read);
    add(
      'export',
      'S3',
      `files: PUT, download (data transfer out), storage until expiry (${expiry} days)`,
      (exportCount * PRICES.s3PerThousandPuts) / 1000 +
        (exportCount * PRICES.s3PerThousandGets) / 1000 +
        gb * PRICES.s3DataTransferOutPerGb +
        gb * PRICES.s3PerGbMonth * (expiry / DAYS_PER_MONTH),
    );
  }

  if (has('DIGEST_BUCKET')) {
    const periodMinutes = env.map((vars) => Number(vars.DIGEST_PERIOD_MINUTES)).find((m) => m > 0) ?? 60;
    add('digest', 'DynamoDB', 'sealer reads (every event once)', 1e6 * unitsPerEventRead * read);
    const { perMonth } = digestCostPerMillionEvents({
      tenants: READ_PATHS.digestTenants,
      eventsPerMonth: READ_PATHS.digestEventsPerMonth,
      periodMinutes,
    });
    add(
      'digest',
      'KMS, S3, Lambda',
      `a signed digest per tenant and ${periodMinutes} min (${READ_PATHS.digestTenants} tenants, ${READ_PATHS.digestEventsPerMonth / 1e6} M events a month)`,
      (perMonth / READ_PATHS.digestEventsPerMonth) * 1e6,
    );
  }

  add(
    'read',
    'Lambda',
    `read calls (${READ_PATHS.lambdaMsPerCall} ms each at 512 MB)`,
    calls * (p.lambdaPerMillionRequests / 1e6 + (READ_PATHS.lambdaMsPerCall / 1000) * 0.5 * p.lambdaArmPerGbSecond),
  );
  return lines;
};
