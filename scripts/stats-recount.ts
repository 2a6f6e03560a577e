/**
 * Recounts the stats counters from the stored events, reports the drift and, with --repair, fixes it:
 *
 *   npm run --silent stats:recount -- --events-table T --stats-table S [--region R] [--endpoint URL] [--repair]
 *   npm run --silent stats:recount -- --local [http://127.0.0.1:3000] [--repair]     (the local stack)
 *
 * It scans both tables (an operator's tool, never a request path), counts every visible event item
 * the way the stream consumer does (core/stats-counters.ts), compares cell by cell and prints one
 * JSON line: {"events","cells","drift":[...]} (at most 50 drifted cells listed). --repair adds
 * the difference to each drifted cell (ADD, leaving the checkpoints alone). Run it after the
 * FailedBatches alarm (a stream batch was given up on), after restoring either table, or with
 * `--local --persist` after a restart lost unconsumed stream records — while the consumer is
 * caught up (iterator age near zero), since writes during the scan make a moving target.
 */
import { parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, ScanCommand, UpdateCommand, type ScanCommandInput } from '@aws-sdk/lib-dynamodb';
import { recountDrift } from '../lambdas/core/stats-counters';

const scanAll = async (client: DynamoDBDocumentClient, tableName: string, projection?: string) => {
  const items: Record<string, unknown>[] = [];
  let start: ScanCommandInput['ExclusiveStartKey'];
  do {
    const out = await client.send(
      new ScanCommand({
        TableName: tableName,
        ...(projection && { ProjectionExpression: projection }),
        ...(start && { ExclusiveStartKey: start }),
      }),
    );
    items.push(...(out.Items ?? []));
    start = out.LastEvaluatedKey;
  } while (start);
  return items;
};

/** The local stack's tables and DynamoDB endpoint, from GET /_local/health. */
const localTables = async (baseUrl: string) => {
  const health = (await (await fetch(`${baseUrl}/_local/health`)).json()) as {
    region: string;
    endpoints: { dynamodb: string };
    tables: Record<string, string>;
  };
  const names = Object.entries(health.tables);
  const events = names.find(([id]) => id.startsWith('Storage'))?.[1];
  const stats = names.find(([id]) => id.startsWith('StatsCounters'))?.[1];
  if (!events || !stats) throw new Error(`no events or stats table in ${JSON.stringify(health.tables)}`);
  return { events, stats, region: health.region, endpoint: health.endpoints.dynamodb };
};

export const recount = async (opts: { eventsTable: string; statsTable: string; region?: string; endpoint?: string; repair: boolean }) => {
  const ddb = new DynamoDBClient({
    // A provisioned table throttles a scan or a run of repairs at its minimum units: back off and retry rather than stop halfway.
    retryMode: 'adaptive',
    maxAttempts: 10,
    ...(opts.region && { region: opts.region }),
    ...(opts.endpoint && { endpoint: opts.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' } }),
  });
  const client = DynamoDBDocumentClient.from(ddb);
  try {
    const events = await scanAll(client, opts.eventsTable, 'pk, e, y, z, d, x');
    const counters = await scanAll(client, opts.statsTable);
    const drift = recountDrift(events, counters);
    if (opts.repair) {
      for (const d of drift) {
        await client.send(
          new UpdateCommand({
            TableName: opts.statsTable,
            Key: { pk: d.pk, sk: d.sk },
            // The item expires like the consumer's (core/stats-counters.ts), from the events it counts:
            // also an item released too early (all zeros, expiring in days) that the repair gives counts.
            UpdateExpression: `ADD #a :d${d.expiresAt !== undefined ? ' SET #x = :x' : ''}`,
            ExpressionAttributeNames: { '#a': d.attribute, ...(d.expiresAt !== undefined && { '#x': 'x' }) },
            ExpressionAttributeValues: { ':d': d.expected - d.counted, ...(d.expiresAt !== undefined && { ':x': d.expiresAt }) },
          }),
        );
      }
    }
    return {
      events: events.length,
      counterItems: counters.length,
      driftedCells: drift.length,
      repaired: opts.repair,
      drift: drift.slice(0, 50),
    };
  } finally {
    ddb.destroy();
  }
};

const main = async () => {
  const { values } = parseArgs({
    options: {
      'events-table': { type: 'string' },
      'stats-table': { type: 'string' },
      region: { type: 'string' },
      endpoint: { type: 'string' },
      local: { type: 'string' },
      repair: { type: 'boolean', default: false },
    },
    allowPositionals: false,
  });
  let target: { eventsTable: string; statsTable: string; region?: string; endpoint?: string };
  if (values.local !== undefined) {
    const t = await localTables(values.local || 'http://127.0.0.1:3000');
    target = { eventsTable: t.events, statsTable: t.stats, region: t.region, endpoint: t.endpoint };
  } else {
    if (!values['events-table'] || !values['stats-table']) throw new Error('--events-table and --stats-table are required (or --local)');
    target = {
      eventsTable: values['events-table'],
      statsTable: values['stats-table'],
      ...(values.region && { region: values.region }),
      ...(values.endpoint && { endpoint: values.endpoint }),
    };
  }
  process.stdout.write(`${JSON.stringify(await recount({ ...target, repair: values.repair === true }))}\n`);
};

if (process.argv[1]?.endsWith('stats-recount.ts')) {
  main().catch((e: Error) => {
    process.stderr.write(`stats:recount: ${e.message}\n`);
    process.exit(1);
  });
}
