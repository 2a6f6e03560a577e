/**
 * Fault injection for the local runtime (tests and `LOCAL_FAULTS=1 npm start` only): an HTTP proxy
 * between the functions and the emulators. Function code is unchanged — the runtime points a
 * function's AWS_ENDPOINT_URL_DYNAMODB / _SQS at `http://127.0.0.1:<proxy>/<service>/<function>/<worker>`
 * instead of at dynalite / fauxqs, and the proxy decides per request, by rules set at runtime
 * (`POST /_local/faults`), whether to forward it or to fail it the way AWS fails:
 *
 * - `throttle`   400 with the service's throttling error (the SDK backs off and retries)
 * - `error`      500 InternalServerError / InternalError, nothing forwarded
 * - `partial`    BatchWriteItem: some items come back in UnprocessedItems and were NOT written;
 *                SendMessageBatch: some entries come back in Failed and were NOT queued
 * - `hang`       no answer for `hangMs`, then the connection is dropped (a timeout)
 * - `drop`       the connection is destroyed before anything is forwarded
 * - `drop-after` the request is applied, then the connection is destroyed (the caller cannot
 *                know it succeeded: the ambiguous failure that makes retries write twice)
 * - `kill-after` the request is applied, then the calling execution environment is terminated
 *                before it sees the answer (a writer that crashed after its write)
 */
import { readAll } from './runtime/http';
import { guardHost } from './runtime/request-guard';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type FaultService = 'dynamodb' | 'sqs';
export const FAULT_KINDS = ['throttle', 'error', 'partial', 'hang', 'drop', 'drop-after', 'kill-after'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

export interface FaultRule {
  readonly kind: FaultKind;
  /** Probability (0..1) that a matching request gets this fault. */
  readonly rate: number;
  /** Only this service. @default both */
  readonly service?: FaultService;
  /** Only these operations (the x-amz-target action, e.g. BatchWriteItem). @default any */
  readonly operations?: readonly string[];
  /** Only functions whose logical id contains one of these. @default any function */
  readonly functions?: readonly string[];
  /** Only requests whose body contains this text (e.g. one item's value). @default any body */
  readonly bodyIncludes?: string;
  /** Fire at most this many times. @default unlimited */
  readonly limit?: number;
  /** `hang` only: how long the request is held before the connection drops. @default the proxy's hangMs */
  readonly hangMs?: number;
}

export interface FaultStats {
  readonly requests: number;
  readonly forwarded: number;
  /** Faults injected, by kind. */
  readonly faults: Record<string, number>;
  readonly total: number;
  readonly rules: (FaultRule & { readonly fired: number })[];
}

export interface FaultProxyOptions {
  readonly targets: Record<FaultService, string>;
  /** Terminates one execution environment of a function; used by `kill-after`. */
  readonly kill: (functionLogicalId: string, workerId: string) => void;
  /** How long `hang` holds a request before dropping it. @default 5000 */
  readonly hangMs?: number;
  readonly random?: () => number;
}

const JSON_TYPE = 'application/x-amz-json-1.0';

/** Validates rules sent to `POST /_local/faults`; throws a readable Error. */
export const parseFaultRules = (value: unknown): FaultRule[] => {
  const list = Array.isArray(value) ? value : (value as { rules?: unknown } | null)?.rules;
  if (!Array.isArray(list)) throw new Error('send {"rules":[{"kind","rate",...}]}');
  return list.map((raw, i) => {
    const r = raw as Record<string, unknown>;
    if (typeof r !== 'object' || r === null) throw new Error(`rule ${i}: not an object`);
    if (!FAULT_KINDS.includes(r.kind as FaultKind)) throw new Error(`rule ${i}: kind must be one of ${FAULT_KINDS.join(', ')}`);
    if (typeof r.rate !== 'number' || !(r.rate >= 0 && r.rate <= 1)) throw new Error(`rule ${i}: rate must be a number in 0..1`);
    if (r.service !== undefined && r.service !== 'dynamodb' && r.service !== 'sqs')
      throw new Error(`rule ${i}: service must be dynamodb or sqs`);
    for (const list of ['operations', 'functions'] as const) {
      if (r[list] !== undefined && !(Array.isArray(r[list]) && (r[list] as unknown[]).every((s) => typeof s === 'string'))) {
        throw new Error(`rule ${i}: ${list} must be a list of strings`);
      }
    }
    if (r.bodyIncludes !== undefined && !(typeof r.bodyIncludes === 'string' && r.bodyIncludes.length > 0)) {
      throw new Error(`rule ${i}: bodyIncludes must be a non-empty string`);
    }
    if (r.limit !== undefined && !(Number.isInteger(r.limit) && (r.limit as number) >= 0))
      throw new Error(`rule ${i}: limit must be an integer ≥ 0`);
    if (r.hangMs !== undefined && !(Number.isInteger(r.hangMs) && (r.hangMs as number) >= 0 && (r.hangMs as number) <= 600_000)) {
      throw new Error(`rule ${i}: hangMs must be an integer in 0..600000`);
    }
    return r as unknown as FaultRule;
  });
};

interface Forwarded {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export class FaultProxy {
  private server: Server | undefined;
  private port = 0;
  private rules: { rule: FaultRule; fired: number }[] = [];
  private readonly counts = { requests: 0, forwarded: 0 };
  private readonly faults: Record<string, number> = {};
  private readonly hanging = new Set<ServerResponse>();

  constructor(private readonly opts: FaultProxyOptions) {}

  async start(): Promise<void> {
    const server = createServer((req, res) => void this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    guardHost(server);
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  async stop(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    const server = this.server;
    if (!server) return;
    await new Promise<void>((done) => {
      server.close(() => done());
      server.closeAllConnections();
    });
  }

  /** The endpoint one execution environment of a function uses for a service. */
  endpoint(service: FaultService, functionLogicalId: string, workerId: string): string {
    return `http://127.0.0.1:${this.port}/${service}/${encodeURIComponent(functionLogicalId)}/${encodeURIComponent(workerId)}`;
  }

  setRules(rules: readonly FaultRule[]): void {
    this.rules = rules.map((rule) => ({ rule, fired: 0 }));
  }

  stats(): FaultStats {
    return {
      ...this.counts,
      faults: { ...this.faults },
      total: Object.values(this.faults).reduce((a, b) => a + b, 0),
      rules: this.rules.map(({ rule, fired }) => ({ ...rule, fired })),
    };
  }

  private pick(service: FaultService, operation: string, fn: string, body: Buffer): FaultRule | undefined {
    const random = this.opts.random ?? Math.random;
    for (const entry of this.rules) {
      const { rule } = entry;
      if (rule.service && rule.service !== service) continue;
      if (rule.operations && !rule.operations.includes(operation)) continue;
      if (rule.functions && !rule.functions.some((f) => fn.includes(f))) continue;
      if (rule.bodyIncludes !== undefined && !body.includes(rule.bodyIncludes)) continue;
      if (rule.limit !== undefined && entry.fired >= rule.limit) continue;
      if (rule.kind === 'partial' && operation !== 'BatchWriteItem' && operation !== 'SendMessageBatch') continue;
      if (random() >= rule.rate) continue;
      entry.fired++;
      this.faults[rule.kind] = (this.faults[rule.kind] ?? 0) + 1;
      return rule;
    }
    return undefined;
  }

  private forward(service: FaultService, req: IncomingMessage, body: Buffer): Promise<Forwarded> {
    const target = new URL(this.opts.targets[service]);
    const headers = { ...req.headers, host: target.host, 'content-length': String(body.length) };
    this.counts.forwarded++;
    return new Promise((resolve, reject) => {
      const out = httpRequest({ host: target.hostname, port: target.port, method: req.method, path: '/', headers }, (res) => {
        readAll(res).then((data) => resolve({ status: res.statusCode ?? 500, headers: res.headers, body: data }), reject);
      });
      out.on('error', reject);
      out.end(body);
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    this.counts.requests++;
    const [, service, fn = '', worker = ''] = (req.url ?? '/').split('/').map((p) => decodeURIComponent(p));
    try {
      const body = await readAll(req);
      if (service !== 'dynamodb' && service !== 'sqs') {
        res.writeHead(404).end();
        return;
      }
      const target = String(req.headers['x-amz-target'] ?? '');
      const operation = target.slice(target.indexOf('.') + 1);
      const rule = this.pick(service, operation, fn, body);
      switch (rule?.kind) {
        case undefined:
          return reply(res, await this.forward(service, req, body));
        case 'throttle':
          return service === 'dynamodb'
            ? awsError(
                res,
                400,
                'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
                'The level of configured provisioned throughput for the table was exceeded (injected)',
              )
            : awsError(
                res,
                400,
                'com.amazonaws.sqs#RequestThrottled',
                'Request is throttled (injected)',
                'AWS.SimpleQueueService.RequestThrottled;Sender',
              );
        case 'error':
          return service === 'dynamodb'
            ? awsError(res, 500, 'com.amazonaws.dynamodb.v20120810#InternalServerError', 'Internal server error (injected)')
            : awsError(res, 500, 'com.amazonaws.sqs#InternalError', 'Internal error (injected)', 'InternalError;Receiver');
        case 'partial':
          return reply(res, await this.partial(service, operation, req, body));
        case 'hang': {
          this.hanging.add(res);
          setTimeout(
            () => {
              this.hanging.delete(res);
              res.destroy();
            },
            rule.hangMs ?? this.opts.hangMs ?? 5000,
          ).unref();
          return;
        }
        case 'drop':
          res.destroy();
          return;
        case 'drop-after':
          await this.forward(service, req, body);
          res.destroy();
          return;
        case 'kill-after':
          await this.forward(service, req, body);
          this.opts.kill(fn, worker);
          res.destroy();
          return;
      }
    } catch (e) {
      awsError(res, 500, 'InternalFailure', `fault proxy: ${(e as Error).message}`);
    }
  }

  /** Forwards a random part of a batch; the rest is reported back as not done (and is not done). */
  private async partial(service: FaultService, operation: string, req: IncomingMessage, body: Buffer): Promise<Forwarded> {
    const random = this.opts.random ?? Math.random;
    const input = JSON.parse(body.toString('utf8')) as Record<string, unknown>;
    if (operation === 'BatchWriteItem') {
      const requestItems = input.RequestItems as Record<string, unknown[]>;
      const kept: Record<string, unknown[]> = {};
      const dropped: Record<string, unknown[]> = {};
      for (const [table, requests] of Object.entries(requestItems)) {
        // At least one request is left unprocessed; sometimes all of them.
        const cut = Math.floor(random() * requests.length);
        const order = requests
          .map((r) => ({ r, k: random() }))
          .sort((a, b) => a.k - b.k)
          .map((x) => x.r);
        if (cut > 0) kept[table] = order.slice(0, cut);
        dropped[table] = order.slice(cut);
      }
      let unprocessed: Record<string, unknown[]> = dropped;
      if (Object.keys(kept).length > 0) {
        const out = await this.forward(service, req, Buffer.from(JSON.stringify({ ...input, RequestItems: kept })));
        if (out.status !== 200) return out;
        const parsed = JSON.parse(out.body.toString('utf8')) as { UnprocessedItems?: Record<string, unknown[]> };
        unprocessed = { ...dropped };
        for (const [table, left] of Object.entries(parsed.UnprocessedItems ?? {}))
          unprocessed[table] = [...(unprocessed[table] ?? []), ...left];
      }
      return jsonAnswer({ UnprocessedItems: unprocessed });
    }
    const entries = input.Entries as { Id: string }[];
    const cut = Math.floor(random() * entries.length);
    const order = entries
      .map((e) => ({ e, k: random() }))
      .sort((a, b) => a.k - b.k)
      .map((x) => x.e);
    const failed = order.slice(cut).map((e) => ({ Id: e.Id, SenderFault: false, Code: 'InternalError', Message: 'injected' }));
    let successful: unknown[] = [];
    if (cut > 0) {
      const out = await this.forward(service, req, Buffer.from(JSON.stringify({ ...input, Entries: order.slice(0, cut) })));
      if (out.status !== 200) return out;
      const parsed = JSON.parse(out.body.toString('utf8')) as { Successful?: unknown[]; Failed?: unknown[] };
      successful = parsed.Successful ?? [];
      failed.push(...((parsed.Failed ?? []) as typeof failed));
    }
    return jsonAnswer({ Successful: successful, Failed: failed });
  }
}

const jsonAnswer = (body: unknown): Forwarded => ({
  status: 200,
  headers: { 'content-type': JSON_TYPE },
  body: Buffer.from(JSON.stringify(body)),
});

const reply = (res: ServerResponse, answer: Forwarded): void => {
  const headers = { ...answer.headers };
  // The body may have been rewritten: its checksum and length no longer hold.
  delete headers['x-amz-crc32'];
  delete headers['content-length'];
  delete headers['transfer-encoding'];
  delete headers.connection;
  res.writeHead(answer.status, { ...headers, 'content-length': String(answer.body.length) });
  res.end(answer.body);
};

const awsError = (res: ServerResponse, status: number, type: string, message: string, queryError?: string): void => {
  const body = JSON.stringify({ __type: type, message });
  res.writeHead(status, {
    'content-type': JSON_TYPE,
    'content-length': String(Buffer.byteLength(body)),
    'x-amzn-requestid': `fault-${Math.random().toString(36).slice(2)}`,
    ...(queryError && { 'x-amzn-query-error': queryError }),
  });
  res.end(body);
};
