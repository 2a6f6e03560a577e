/**
 * Ingest CPU: the ingest core per event, against the floor any ingest pays for the same events
 * (JSON.parse of the request body + JSON.stringify of one queue message per event), same run.
 */
import { ingest } from '../lambdas/core/ingest';
import { parseKeyring } from '../lambdas/core/keyring';
import type { QueueMessage } from '../lambdas/core/message';
import { makeEvents } from './workload';

export interface IngestCpuResult {
  readonly eventsPerRequest: number;
  readonly ingestUsPerEvent: number;
  readonly floorUsPerEvent: number;
  /** floor / ingest: 1 means ingest costs no more than parsing and serializing. */
  readonly ingestVsJsonFloor: number;
}

const KEYRING = parseKeyring(JSON.stringify({ current: '1', k1: 'bench-secret-'.repeat(4) }));

export const benchIngestCpu = async (
  opts: { requests?: number; eventsPerRequest?: number; rounds?: number } = {},
): Promise<IngestCpuResult> => {
  const per = opts.eventsPerRequest ?? 50;
  const requests = opts.requests ?? 200;
  const rounds = opts.rounds ?? 5;
  const bodies = Array.from({ length: requests }, (_, i) =>
    JSON.stringify({ events: makeEvents(per, { seed: i + 1, startMs: Date.now() - 60_000 }) }),
  );
  const queue = { send: async (_m: readonly QueueMessage[]) => new Set<string>() };
  const deps = { queue, keyring: KEYRING, shardCount: 4, retentionDays: () => 90 };
  const source = { ip: '203.0.113.7', userAgent: 'bench/1.0 (node)' };

  const runIngest = async () => {
    for (const body of bodies) await ingest({ tenant: 'bench', body, contentType: 'application/json', source }, deps);
  };
  let sink = 0;
  const runFloor = () => {
    for (const body of bodies) {
      const parsed = JSON.parse(body) as { events: unknown[] };
      for (const event of parsed.events) sink += JSON.stringify({ v: 1, e: JSON.stringify(event) }).length;
    }
  };
  // Warm both paths, then take the best of several rounds of each (interleaved).
  await runIngest();
  runFloor();
  let ingestBest = Infinity;
  let floorBest = Infinity;
  // Process CPU time (user + system), not wall time: on a shared machine other processes stretch
  // the wall clock of both paths unevenly.
  const cpuMs = (since: NodeJS.CpuUsage) => {
    const used = process.cpuUsage(since);
    return (used.user + used.system) / 1000;
  };
  for (let r = 0; r < rounds; r++) {
    let t = process.cpuUsage();
    await runIngest();
    ingestBest = Math.min(ingestBest, cpuMs(t));
    t = process.cpuUsage();
    runFloor();
    floorBest = Math.min(floorBest, cpuMs(t));
  }
  if (sink < 0) throw new Error('unreachable');
  const events = requests * per;
  const ingestUs = (ingestBest * 1000) / events;
  const floorUs = (floorBest * 1000) / events;
  return { eventsPerRequest: per, ingestUsPerEvent: ingestUs, floorUsPerEvent: floorUs, ingestVsJsonFloor: floorUs / ingestUs };
};
