/**
 * EventBridge, locally: an HTTP endpoint speaking PutEvents (the JSON protocol the SDK uses) that
 * keeps the events it accepts (newest first, for GET /_local/bus) and runs the template's
 * event-pattern rules on them: a match is delivered to its targets that exist locally — an SQS
 * queue (the event JSON as the message body) or a function (invoked asynchronously with the event).
 * Faults for tests: `failNext(n)` makes the next n entries fail as EventBridge reports a failed
 * entry (ErrorCode InternalFailure), so the caller's retry path runs.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import { guardHost } from './runtime/request-guard';
import type { AddressInfo } from 'node:net';
import { matchesPattern } from './event-pattern';
import type { BusRuleModel } from './template/model';

export interface BusEvent {
  readonly version: '0';
  readonly id: string;
  readonly 'detail-type': string;
  readonly source: string;
  readonly account: string;
  readonly time: string;
  readonly region: string;
  readonly resources: string[];
  readonly detail: unknown;
  /** The bus it was put on (not part of the delivered envelope). */
  readonly bus: string;
}

export interface LocalEventBusOptions {
  readonly region: string;
  readonly accountId: string;
  readonly rules: readonly BusRuleModel[];
  /** Delivers one matched event to a target. */
  readonly deliver: (target: BusRuleModel['targets'][number], event: Omit<BusEvent, 'bus'>, rule: BusRuleModel) => Promise<void>;
  readonly log: (line: string) => void;
  /** Events kept for GET /_local/bus. @default 10000 */
  readonly capacity?: number;
}

const MAX_ENTRIES = 10;
const MAX_REQUEST_BYTES = 256 * 1024;

export class LocalEventBus {
  private readonly events: BusEvent[] = [];
  private server: Server | undefined;
  private failing = 0;
  /** now − Time of each accepted entry that carried a Time, ms: how far behind its source a publisher runs. */
  private readonly ages: number[] = [];
  /** Entries accepted and failed so far, and deliveries made. */
  readonly stats = { accepted: 0, failed: 0, delivered: 0, deliveryErrors: 0 };

  constructor(private readonly options: LocalEventBusOptions) {}

  /** The next `count` entries fail (tests). */
  failNext(count: number): void {
    this.failing = count;
  }

  /** Accepted, failed, delivered counts and the p50/p99 age of entries at PutEvents (now − Time). */
  figures() {
    const sorted = [...this.ages].sort((a, b) => a - b);
    const at = (q: number) => (sorted.length === 0 ? null : (sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number));
    return { ...this.stats, entryAgeMs: { count: sorted.length, p50: at(0.5), p99: at(0.99) } };
  }

  /** Newest first. */
  list(limit: number, bus?: string): BusEvent[] {
    const out: BusEvent[] = [];
    for (let i = this.events.length - 1; i >= 0 && out.length < limit; i--) {
      const e = this.events[i] as BusEvent;
      if (bus === undefined || e.bus === bus) out.push(e);
    }
    return out;
  }

  async start(): Promise<string> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const answer = (status: number, body: unknown) => {
          res.writeHead(status, { 'Content-Type': 'application/x-amz-json-1.1' });
          res.end(JSON.stringify(body));
        };
        const target = String(req.headers['x-amz-target'] ?? '');
        if (target !== 'AWSEvents.PutEvents') {
          answer(400, { __type: 'UnknownOperationException', message: `${target || 'this operation'} is not emulated locally` });
          return;
        }
        try {
          answer(200, this.putEvents(JSON.parse(Buffer.concat(chunks).toString('utf8')) as { Entries?: unknown[] }));
        } catch (e) {
          answer(400, { __type: 'ValidationException', message: (e as Error).message });
        }
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    guardHost(server);
    this.server = server;
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  private putEvents(body: { Entries?: unknown[] }) {
    const entries = body.Entries;
    if (!Array.isArray(entries) || entries.length === 0 || entries.length > MAX_ENTRIES) {
      throw new Error(`Entries must hold 1 to ${MAX_ENTRIES} entries`);
    }
    const size = entries.reduce<number>((sum, raw) => {
      const e = raw as Record<string, unknown>;
      return sum + 14 + ['Source', 'DetailType', 'Detail'].reduce((s, k) => s + Buffer.byteLength(String(e[k] ?? ''), 'utf8'), 0);
    }, 0);
    if (size > MAX_REQUEST_BYTES) throw new Error(`Total size of the entries in the request is over the limit (${size} bytes)`);
    let failed = 0;
    const results = entries.map((raw) => {
      const e = raw as Record<string, unknown>;
      if (this.failing > 0) {
        this.failing--;
        failed++;
        this.stats.failed++;
        return { ErrorCode: 'InternalFailure', ErrorMessage: 'injected fault (local bus)' };
      }
      let detail: unknown;
      try {
        detail = JSON.parse(String(e.Detail ?? ''));
      } catch {
        failed++;
        return { ErrorCode: 'MalformedDetail', ErrorMessage: 'Detail is malformed.' };
      }
      if (typeof e.Source !== 'string' || typeof e.DetailType !== 'string') {
        failed++;
        return { ErrorCode: 'InvalidArgument', ErrorMessage: 'Source and DetailType are required.' };
      }
      const bus = String(e.EventBusName ?? 'default')
        .split(':event-bus/')
        .pop() as string;
      const time = typeof e.Time === 'number' ? new Date(e.Time * 1000) : typeof e.Time === 'string' ? new Date(e.Time) : new Date();
      if (e.Time !== undefined && this.ages.length < 100_000) this.ages.push(Math.max(0, Date.now() - time.getTime()));
      const event: BusEvent = {
        version: '0',
        id: randomUUID(),
        'detail-type': e.DetailType,
        source: e.Source,
        account: this.options.accountId,
        time: time.toISOString().replace(/\.\d{3}Z$/, 'Z'),
        region: this.options.region,
        resources: Array.isArray(e.Resources) ? e.Resources.map(String) : [],
        detail,
        bus,
      };
      this.accept(event);
      return { EventId: event.id };
    });
    return { FailedEntryCount: failed, Entries: results };
  }

  private accept(event: BusEvent): void {
    this.stats.accepted++;
    this.events.push(event);
    const capacity = this.options.capacity ?? 10_000;
    if (this.events.length > capacity) this.events.splice(0, this.events.length - capacity);
    const { bus, ...envelope } = event;
    for (const rule of this.options.rules) {
      if (!rule.enabled || rule.busName !== bus) continue;
      let matched: boolean;
      try {
        matched = matchesPattern(rule.eventPattern, envelope as unknown as Record<string, unknown>);
      } catch (e) {
        this.options.log(`rule ${rule.logicalId}: ${(e as Error).message}`);
        continue;
      }
      if (!matched) continue;
      for (const target of rule.targets) {
        // Asynchronous, as EventBridge delivers: PutEvents has answered already.
        this.options.deliver(target, envelope, rule).then(
          () => void this.stats.delivered++,
          (e: unknown) => {
            this.stats.deliveryErrors++;
            this.options.log(`rule ${rule.logicalId} → ${target.logicalId}: ${(e as Error).message}`);
          },
        );
      }
    }
  }
}
