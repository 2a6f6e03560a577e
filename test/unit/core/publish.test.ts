import type { TableChange } from '../../../lambdas/core/bus-events';
import {
  type BusEntry,
  type BusPort,
  type ChangeRecord,
  chunkEntries,
  entrySize,
  MAX_BYTES_PER_CALL,
  publishChanges,
} from '../../../lambdas/core/publish';
import { type ErasureMarkerItem, markerPartition, userIdDigest } from '../../../lambdas/core/item-keys';
import { testKeyring } from '../../support/fakes';

const keyring = testKeyring();
const NOW = Date.parse('2026-11-21T12:00:00Z');

/** An inserted event item with an internal id built from `n`, and a `details.pad` of `padBytes`. */
const inserted = (n: number, padBytes = 0): ChangeRecord => {
  const sk = `0${String(n).padStart(23, '0')}`;
  const change: TableChange = {
    eventName: 'INSERT',
    newImage: {
      pk: 'acme#0',
      sk,
      u: 'acme#h',
      t: 'acme#0#login',
      x: 2_000_000_000,
      e: JSON.stringify({
        type: 'login',
        userId: `u-${n}`,
        occurredAt: '2026-11-21T12:00:00.000Z',
        receivedAt: '2026-11-21T12:00:00.000Z',
        source: {},
        ...(padBytes > 0 && { details: { pad: 'p'.repeat(padBytes) } }),
      }),
    },
    approximateCreationMs: NOW,
  };
  return { sequenceNumber: `seq-${String(n).padStart(4, '0')}`, change };
};
const counter: ChangeRecord = {
  sequenceNumber: 'seq-counter',
  change: { eventName: 'INSERT', newImage: { pk: '$rate#acme', sk: '1', r: 1 }, approximateCreationMs: NOW },
};

/** A bus that records each call and fails what `fail` says. */
class FakeBus implements BusPort {
  readonly calls: BusEntry[][] = [];
  constructor(private readonly fail: (entry: BusEntry, call: number) => 'entry' | 'call' | undefined = () => undefined) {}
  async put(entries: readonly BusEntry[]) {
    const call = this.calls.length;
    this.calls.push([...entries]);
    const verdicts = entries.map((e) => this.fail(e, call));
    if (verdicts.includes('call')) throw new Error('ThrottlingException');
    return { failed: verdicts.flatMap((v, index) => (v === 'entry' ? [{ index, code: 'InternalFailure' }] : [])) };
  }
  userIds(): string[] {
    return this.calls.flat().map((e) => (JSON.parse(e.detail) as { event: { userId: string } }).event.userId);
  }
}
/** The erasure markers of each tenant (none by default), counting the reads. */
class FakeMarkers {
  readonly reads: string[] = [];
  constructor(private readonly markers: ErasureMarkerItem[] = []) {}
  async listMarkers(tenant: string) {
    this.reads.push(tenant);
    return this.markers.filter((m) => m.pk === markerPartition(tenant));
  }
}
const noSleep = { sleep: async () => undefined, random: () => 0.5, erasures: new FakeMarkers() };

describe('publishing changes on the bus', () => {
  it('puts at most 10 entries per call, in stream order, and skips changes that mean nothing', async () => {
    const bus = new FakeBus();
    const records = [...Array.from({ length: 23 }, (_, i) => inserted(i)), counter];
    const out = await publishChanges(records, { bus, keyring, ...noSleep });
    expect(bus.calls.map((c) => c.length)).toEqual([10, 10, 3]);
    expect(bus.userIds()).toEqual(Array.from({ length: 23 }, (_, i) => `u-${i}`));
    expect(out).toMatchObject({ published: 23, skipped: 1, retried: 0, batchItemFailures: [], byType: { 'activity.recorded': 23 } });
    expect(bus.calls.flat().every((e) => e.source === 'activity-tracker' && e.detailType === 'activity.recorded')).toBe(true);
  });

  it('keeps every call within 256 KB', async () => {
    const bus = new FakeBus();
    const records = Array.from({ length: 12 }, (_, i) => inserted(i, 30_000));
    await publishChanges(records, { bus, keyring, ...noSleep });
    expect(bus.calls.length).toBeGreaterThan(1);
    for (const call of bus.calls) expect(call.reduce((sum, e) => sum + entrySize(e), 0)).toBeLessThanOrEqual(MAX_BYTES_PER_CALL);
    expect(bus.userIds()).toEqual(Array.from({ length: 12 }, (_, i) => `u-${i}`));
  });

  it('splits by size before the bus would refuse a call', () => {
    const entry = (bytes: number): BusEntry => ({ source: 's', detailType: 'd', detail: 'x'.repeat(bytes), time: '' });
    expect(chunkEntries([entry(200_000), entry(70_000), entry(10)]).map((c) => c.length)).toEqual([1, 2]);
    expect(() => chunkEntries([entry(MAX_BYTES_PER_CALL)])).toThrow(/256 KB/);
  });

  it('retries only the entries the bus reports as failed until they go through', async () => {
    const failures = new Map([
      ['u-3', 2],
      ['u-7', 1],
    ]);
    const bus = new FakeBus((e) => {
      const user = (JSON.parse(e.detail) as { event: { userId: string } }).event.userId;
      const left = failures.get(user) ?? 0;
      if (left === 0) return undefined;
      failures.set(user, left - 1);
      return 'entry';
    });
    const sleeps: number[] = [];
    const out = await publishChanges(
      Array.from({ length: 10 }, (_, i) => inserted(i)),
      {
        bus,
        keyring,
        sleep: async (ms) => void sleeps.push(ms),
        random: () => 1,
        backoffMs: 100,
        erasures: new FakeMarkers(),
      },
    );
    expect(bus.calls.map((c) => c.length)).toEqual([10, 2, 1]);
    expect(out).toMatchObject({ published: 10, retried: 2, batchItemFailures: [] });
    expect(sleeps).toEqual([100, 200]);
  });

  it('reports the first record still failing after every attempt; records after it are retried by Lambda', async () => {
    const bus = new FakeBus((e) => ((JSON.parse(e.detail) as { event: { userId: string } }).event.userId === 'u-14' ? 'entry' : undefined));
    const out = await publishChanges(
      Array.from({ length: 25 }, (_, i) => inserted(i)),
      { bus, keyring, maxAttempts: 3, ...noSleep },
    );
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: 'seq-0014' }]);
    // The third call (records 20..24) is not attempted: nothing is published out of order past the failure.
    expect(bus.userIds().filter((u) => u === 'u-14')).toHaveLength(3);
    expect(bus.userIds()).not.toContain('u-20');
    expect(out.published).toBe(19);
  });

  it('retries a call that fails whole (throttling) and throws when nothing could be published', async () => {
    let throttled = 2;
    const flaky = new FakeBus(() => (throttled-- > 0 ? 'call' : undefined));
    await expect(publishChanges([inserted(1)], { bus: flaky, keyring, ...noSleep })).resolves.toMatchObject({ published: 1 });
    expect(flaky.calls).toHaveLength(3);

    const down = new FakeBus(() => 'call');
    await expect(publishChanges([inserted(1), inserted(2)], { bus: down, keyring, maxAttempts: 2, ...noSleep })).rejects.toThrow(
      /none of 2/,
    );
  });

  it('fails from a record that cannot be mapped, publishing those before it', async () => {
    const bus = new FakeBus();
    const broken: ChangeRecord = {
      sequenceNumber: 'seq-broken',
      change: {
        eventName: 'MODIFY',
        oldImage: { pk: '$erasures', sk: 'R#acme', tn: 'acme', rs: 'R', uk: 'k', uh: 'h' },
        newImage: { pk: '$erasures', sk: 'R#acme', tn: 'acme', rs: 'R', uk: 'k', uh: 'h', c: NOW, su: NOW },
        approximateCreationMs: NOW,
      },
    };
    const out = await publishChanges([inserted(1), broken, inserted(2)], { bus, keyring, ...noSleep });
    expect(bus.userIds()).toEqual(['u-1']);
    expect(out.batchItemFailures).toEqual([{ itemIdentifier: 'seq-broken' }]);
  });
});

describe('publishing what an erasure hides', () => {
  const HOUR = 3_600_000;
  /** An erasure of u-3 in acme requested an hour ago (completed, its marker kept 15 days), or in `tenant`. */
  const marker = (over: Partial<ErasureMarkerItem> = {}): ErasureMarkerItem => ({
    pk: markerPartition('acme'),
    sk: 'acme#h',
    r: 'receipt',
    uh: userIdDigest('u-3')!,
    ra: NOW - HOUR,
    c: NOW - HOUR / 2,
    x: Math.floor((NOW + 15 * 24 * HOUR) / 1000),
    ...over,
  });
  /** inserted(n), received `receivedMs` (default: two hours ago, before the erasure), of `type`. */
  const late = (n: number, receivedMs = NOW - 2 * HOUR, type = 'login'): ChangeRecord => {
    const record = inserted(n);
    const image = record.change.newImage as Record<string, unknown>;
    const event = { ...(JSON.parse(image.e as string) as Record<string, unknown>), type, receivedAt: new Date(receivedMs).toISOString() };
    return { ...record, change: { ...record.change, newImage: { ...image, e: JSON.stringify(event) } } };
  };

  it('never publishes an erased user’s event stored after the erasure (a redrive), and publishes the rest', async () => {
    const bus = new FakeBus();
    const erasures = new FakeMarkers([marker()]);
    const out = await publishChanges([late(1), late(3), late(4)], { bus, keyring, ...noSleep, erasures });
    expect(bus.userIds()).toEqual(['u-1', 'u-4']);
    expect(out).toMatchObject({ published: 2, skipped: 1, withheld: 1, batchItemFailures: [] });
    // One read of the tenant's markers for the batch.
    expect(erasures.reads).toEqual(['acme']);
  });

  it('publishes what the erasure does not cover: events received after its cutoff, audit records, expired markers, other tenants', async () => {
    const bus = new FakeBus();
    const records = [late(3, NOW - HOUR / 4), late(3, NOW - 2 * HOUR, 'activity-tracker.event.deleted')];
    await publishChanges(records, { bus, keyring, ...noSleep, erasures: new FakeMarkers([marker()]) });
    expect(bus.userIds()).toEqual(['u-3', 'u-3']);

    const expired = new FakeBus();
    const gone = marker({ x: Math.floor((NOW - 1000) / 1000) });
    await publishChanges([late(3)], { bus: expired, keyring, ...noSleep, erasures: new FakeMarkers([gone]) });
    expect(expired.userIds()).toEqual(['u-3']);

    const other = new FakeBus();
    const elsewhere = marker({ pk: markerPartition('globex') });
    await publishChanges([late(3)], { bus: other, keyring, ...noSleep, erasures: new FakeMarkers([elsewhere]) });
    expect(other.userIds()).toEqual(['u-3']);
  });

  it('judges by the record’s time: a marker live when the event was stored hides it, though it has expired since', async () => {
    const bus = new FakeBus();
    // NOW is in the past of any real clock: the marker expired an hour after the record was written.
    const since = marker({ x: Math.floor((NOW + HOUR) / 1000) });
    const out = await publishChanges([late(3)], { bus, keyring, ...noSleep, erasures: new FakeMarkers([since]) });
    expect(out).toMatchObject({ published: 0, withheld: 1 });
  });

  it('reads no markers for a batch without inserted events, and fails the batch whole when they cannot be read', async () => {
    const erasures = new FakeMarkers([marker()]);
    await publishChanges([counter], { bus: new FakeBus(), keyring, ...noSleep, erasures });
    expect(erasures.reads).toEqual([]);
    const bus = new FakeBus();
    const down = { listMarkers: async () => Promise.reject(new Error('ProvisionedThroughputExceededException')) };
    await expect(publishChanges([late(1)], { bus, keyring, ...noSleep, erasures: down })).rejects.toThrow(/Throughput/);
    expect(bus.calls).toEqual([]);
  });
});
