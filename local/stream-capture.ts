/**
 * Change streams for an emulator that has none (dynalite): an HTTP proxy in front of it through
 * which every client reaches DynamoDB. For each write to a table with a stream (PutItem,
 * UpdateItem, DeleteItem, BatchWriteItem, TransactWriteItems) it locks the items the write
 * touches, reads them before (consistent BatchGetItem), forwards the write, reads them after, and
 * appends one record per changed item to that table's StreamLog — old and new images, in write
 * order per item. Other requests pass through untouched.
 */
import { EventEmitter } from 'node:events';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { crc32 } from 'node:zlib';
import { readAll } from './runtime/http';
import { guardHost } from './runtime/request-guard';
import { changeRecord, type StreamLog, type WireItem } from './stream-log';

export interface CapturedTable {
  readonly tableName: string;
  /** Key attribute names (partition key first). */
  readonly keyAttributes: readonly string[];
  readonly log: StreamLog;
}

/** An HTTP server's request listener (the emulator's), called in-process. */
export type RequestListener = (req: IncomingMessage, res: ServerResponse) => void;

export interface StreamCaptureOptions {
  /** The emulator's endpoint, e.g. http://127.0.0.1:PORT. */
  readonly target: string;
  /**
   * The emulator's own request listener, when it runs in this process: the capture hands it each
   * request directly instead of over a second HTTP connection (dynalite reads the request's
   * headers, method and body events, and answers with statusCode, setHeader and end).
   */
  readonly dispatch?: RequestListener;
  readonly tables: readonly CapturedTable[];
  readonly region: string;
  /** Real time: when a record was written, for the log's 24-hour retention. */
  readonly now?: () => number;
  /**
   * The stack's clock (`POST /_local/clock` shifts it), which stamps each record's
   * ApproximateCreationDateTime: the functions compare it with their own clock (lag, expiries).
   * @default now
   */
  readonly clock?: () => number;
}

interface Touched {
  readonly table: CapturedTable;
  readonly keys: WireItem;
  readonly id: string;
}

const TARGET_PREFIX = 'DynamoDB_20120810.';

/** The headers of a DynamoDB request to dynalite, which checks that a request carries credentials, not its signature. */
export const emulatorRequestHeaders = (operation: string): Record<string, string> => ({
  'content-type': 'application/x-amz-json-1.0',
  'x-amz-target': `${TARGET_PREFIX}${operation}`,
  authorization: 'AWS4-HMAC-SHA256 Credential=local/20200101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0',
  'x-amz-date': '20200101T000000Z',
});

export class StreamCapture {
  private server: Server | undefined;
  private readonly byName: Map<string, CapturedTable>;
  private readonly locks = new Map<string, Promise<void>>();
  private readonly now: () => number;
  private readonly clock: () => number;
  /** Writes captured and records appended (for the status page). */
  readonly stats = { writes: 0, records: 0 };

  constructor(private readonly opts: StreamCaptureOptions) {
    this.byName = new Map(opts.tables.map((t) => [t.tableName, t]));
    this.now = opts.now ?? Date.now;
    this.clock = opts.clock ?? this.now;
  }

  /** Starts listening on 127.0.0.1; resolves to the endpoint clients should use. */
  async start(): Promise<string> {
    const server = createServer((req, res) => {
      void this.handle(req).then(
        ({ status, headers, body }) => {
          res.writeHead(status, headers);
          res.end(body);
        },
        (e: Error) => {
          res.writeHead(500, { 'content-type': 'application/x-amz-json-1.0' });
          res.end(JSON.stringify({ __type: 'com.amazonaws.dynamodb.v20120810#InternalServerError', message: e.message }));
        },
      );
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    guardHost(server);
    this.server = server;
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  async stop() {
    const server = this.server;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  private async handle(req: IncomingMessage) {
    const body = await readAll(req);
    const target = String(req.headers['x-amz-target'] ?? '');
    const operation = target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : '';
    const touched = this.touchedBy(operation, body);
    if (touched.length === 0) return this.forward(req, body);
    if (operation === 'PutItem') return this.putItem(req, body, touched[0]!);
    const release = await this.lock(touched.map((t) => t.id));
    try {
      const before = await this.readItems(touched);
      const answer = await this.forward(req, body);
      if (answer.status === 200) {
        const after = await this.readItems(touched);
        this.stats.writes++;
        for (const t of touched) this.append(t, before.get(t.id), after.get(t.id));
      }
      return answer;
    } finally {
      release();
    }
  }

  /**
   * A PutItem needs no reads: the write itself returns the old image (ReturnValues ALL_OLD, added
   * when the client did not ask for it and taken out of its answer again), and the new image is the
   * item put. One request to the emulator instead of three, on the writer's path.
   */
  private async putItem(req: IncomingMessage, body: Buffer, t: Touched) {
    const input = JSON.parse(body.toString('utf8')) as { Item: WireItem; ReturnValues?: string };
    const asked = input.ReturnValues === 'ALL_OLD';
    const release = await this.lock([t.id]);
    try {
      const answer = await this.forward(req, asked ? body : Buffer.from(JSON.stringify({ ...input, ReturnValues: 'ALL_OLD' })));
      if (answer.status !== 200) return answer;
      const out = JSON.parse(answer.body.toString('utf8')) as { Attributes?: WireItem };
      this.stats.writes++;
      this.append(t, out.Attributes, input.Item);
      if (asked) return answer;
      delete out.Attributes;
      const stripped = Buffer.from(JSON.stringify(out));
      return { ...answer, headers: { ...answer.headers, 'x-amz-crc32': String(crc32(stripped)) }, body: stripped };
    } finally {
      release();
    }
  }

  private append(t: Touched, oldImage: WireItem | undefined, newImage: WireItem | undefined) {
    const nowMs = this.now();
    const record = changeRecord({
      keys: t.keys,
      oldImage,
      newImage,
      viewType: t.table.log.viewType,
      sequenceNumber: t.table.log.nextSequenceNumber(),
      streamArn: t.table.log.streamArn,
      region: this.opts.region,
      nowMs: this.clock(),
    });
    if (!record) return;
    t.table.log.append(record, nowMs);
    this.stats.records++;
  }

  /** The items of stream tables a write request touches, once each, in request order. */
  private touchedBy(operation: string, body: Buffer): Touched[] {
    const items: { tableName: unknown; item: unknown }[] = [];
    let input: Record<string, unknown>;
    try {
      input = JSON.parse(body.toString('utf8') || '{}') as Record<string, unknown>;
    } catch {
      return [];
    }
    switch (operation) {
      case 'PutItem':
        items.push({ tableName: input.TableName, item: input.Item });
        break;
      case 'UpdateItem':
      case 'DeleteItem':
        items.push({ tableName: input.TableName, item: input.Key });
        break;
      case 'BatchWriteItem':
        for (const [tableName, requests] of Object.entries((input.RequestItems as Record<string, unknown[]>) ?? {})) {
          for (const r of Array.isArray(requests) ? requests : []) {
            const w = r as { PutRequest?: { Item?: unknown }; DeleteRequest?: { Key?: unknown } };
            items.push({ tableName, item: w.PutRequest?.Item ?? w.DeleteRequest?.Key });
          }
        }
        break;
      case 'TransactWriteItems':
        for (const t of Array.isArray(input.TransactItems) ? input.TransactItems : []) {
          const x = t as Record<string, { TableName?: unknown; Item?: unknown; Key?: unknown } | undefined>;
          const w = x.Put ?? x.Update ?? x.Delete;
          if (w) items.push({ tableName: w.TableName, item: w.Item ?? w.Key });
        }
        break;
      default:
        return [];
    }
    const out: Touched[] = [];
    const seen = new Set<string>();
    for (const { tableName, item } of items) {
      const table = typeof tableName === 'string' ? this.byName.get(tableName) : undefined;
      if (!table || typeof item !== 'object' || item === null) continue;
      const keys: WireItem = {};
      for (const a of table.keyAttributes) {
        const v = (item as WireItem)[a];
        if (v === undefined) return []; // malformed: let the emulator answer it
        keys[a] = v;
      }
      const id = `${table.tableName}\u0000${JSON.stringify(table.keyAttributes.map((a) => keys[a]))}`;
      if (seen.has(id)) continue;
      seen.add(id);
      out.push({ table, keys, id });
    }
    return out;
  }

  /** Holds every id's lock (taken in sorted order, so two writes cannot deadlock). */
  private async lock(ids: string[]): Promise<() => void> {
    const releases: (() => void)[] = [];
    for (const id of [...new Set(ids)].sort()) {
      const previous = this.locks.get(id) ?? Promise.resolve();
      let release!: () => void;
      const mine = new Promise<void>((r) => {
        release = r;
      });
      const tail = previous.then(() => mine);
      this.locks.set(id, tail);
      await previous;
      releases.push(() => {
        release();
        if (this.locks.get(id) === tail) this.locks.delete(id);
      });
    }
    return () => {
      for (const r of releases) r();
    };
  }

  /** Current images of the touched items (consistent reads, straight from the emulator). */
  private async readItems(touched: Touched[]): Promise<Map<string, WireItem>> {
    const found = new Map<string, WireItem>();
    for (let i = 0; i < touched.length; i += 100) {
      const chunk = touched.slice(i, i + 100);
      let request: Record<string, { Keys: WireItem[]; ConsistentRead: true }> = {};
      for (const t of chunk) {
        const entry = request[t.table.tableName] ?? { Keys: [], ConsistentRead: true as const };
        entry.Keys.push(t.keys);
        request[t.table.tableName] = entry;
      }
      while (Object.keys(request).length > 0) {
        const out = (await this.call('BatchGetItem', { RequestItems: request })) as {
          Responses?: Record<string, WireItem[]>;
          UnprocessedKeys?: typeof request;
        };
        for (const [tableName, items] of Object.entries(out.Responses ?? {})) {
          const table = this.byName.get(tableName)!;
          for (const item of items) {
            found.set(`${tableName}\u0000${JSON.stringify(table.keyAttributes.map((a) => item[a]))}`, item);
          }
        }
        request = out.UnprocessedKeys ?? {};
      }
    }
    return found;
  }

  private async call(operation: string, input: unknown): Promise<unknown> {
    const answer = await this.send(emulatorRequestHeaders(operation), Buffer.from(JSON.stringify(input)), 'POST', '/');
    if (answer.status !== 200) throw new Error(`${operation} on the emulator failed (${answer.status}): ${answer.body.toString('utf8')}`);
    return JSON.parse(answer.body.toString('utf8')) as unknown;
  }

  private forward(req: IncomingMessage, body: Buffer) {
    const headers = { ...req.headers };
    delete headers.host;
    return this.send(headers, body, req.method ?? 'POST', req.url ?? '/');
  }

  private send(headers: IncomingMessage['headers'], body: Buffer, method: string, path: string) {
    if (this.opts.dispatch) return dispatchInProcess(this.opts.dispatch, headers, body, method, path);
    const url = new URL(this.opts.target);
    return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }>((resolve, reject) => {
      const out = httpRequest(
        {
          host: url.hostname,
          port: url.port,
          method,
          path,
          headers: { ...headers, host: url.host, 'content-length': String(body.length) },
        },
        (res) => {
          readAll(res).then((b) => {
            const h = { ...res.headers };
            delete h['content-length'];
            delete h['transfer-encoding'];
            delete h.connection;
            resolve({ status: res.statusCode ?? 500, headers: h, body: b });
          }, reject);
        },
      );
      out.on('error', reject);
      out.end(body);
    });
  }
}

type Answer = { status: number; headers: Record<string, string | string[] | undefined>; body: Buffer };

/**
 * One request through a request listener in this process: a request that emits its body once, and
 * a response that collects the status, headers and body the listener ends it with.
 */
const dispatchInProcess = (
  listener: RequestListener,
  headers: IncomingMessage['headers'],
  body: Buffer,
  method: string,
  path: string,
): Promise<Answer> =>
  new Promise<Answer>((resolve, reject) => {
    const req = Object.assign(new EventEmitter(), { headers: { ...headers, 'content-length': String(body.length) }, method, url: path });
    const out: Record<string, string | string[] | undefined> = {};
    const res = {
      statusCode: 200,
      setHeader(name: string, value: number | string | string[]) {
        out[name.toLowerCase()] = typeof value === 'number' ? String(value) : value;
        return res;
      },
      getHeader: (name: string) => out[name.toLowerCase()],
      removeHeader(name: string) {
        delete out[name.toLowerCase()];
      },
      end(chunk?: string | Buffer) {
        const data = chunk === undefined ? Buffer.alloc(0) : Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk, 'utf8');
        delete out['content-length'];
        delete out['transfer-encoding'];
        resolve({ status: res.statusCode, headers: out, body: data });
        return res;
      },
    };
    try {
      listener(req as unknown as IncomingMessage, res as unknown as ServerResponse);
    } catch (e) {
      reject(e);
      return;
    }
    process.nextTick(() => {
      if (body.length > 0) req.emit('data', body);
      req.emit('end');
    });
  });
