/**
 * The `/_local/*` routes: status page, JWKS and issuer metadata, health, stats, metrics, the
 * clock, schedules on demand and the fault rules. Local mode only; a deployed API has none.
 */
import type { LocalClock } from '../clock';
import { parseFaultRules, type FaultProxy } from '../faults';
import { jwksDocument, type IssuerKeys } from '../issuer';
import { errorAnswer, type HttpAnswer } from '../proxy-event';
import { STATUS_PAGE_HTML } from '../status-page';
import type { LocalEventBus } from '../event-bus';
import { json } from './http';
import type { LocalIssuer, LocalPage, LocalPageContext, LocalStats, ScheduleRunResult } from './types';

export interface LocalRoutesOptions {
  readonly keys: IssuerKeys;
  readonly issuer: LocalIssuer;
  readonly clock: LocalClock;
  readonly health: () => unknown;
  readonly stats: () => LocalStats;
  readonly metrics: () => Promise<unknown>;
  readonly runSchedules: () => Promise<ScheduleRunResult[]>;
  readonly faults?: FaultProxy;
  /** The local event buses: GET /_local/bus?limit=N (and POST /_local/bus/faults when `busFaults`). */
  readonly bus?: LocalEventBus;
  readonly busFaults?: boolean;
  /** The app's pages (GET /_local/<name>), what they may use, and where their failures are logged. */
  readonly pages?: {
    readonly pages: Readonly<Record<string, LocalPage>>;
    readonly context: LocalPageContext;
    readonly log: (line: string) => void;
  };
}

/** Answers a request under /_local/. */
export const localRoutes =
  ({ keys, issuer, clock, health, stats, metrics, runSchedules, faults, bus, busFaults, pages }: LocalRoutesOptions) =>
  async (method: string, path: string, requestBody: Buffer, query: URLSearchParams = new URLSearchParams()): Promise<HttpAnswer> => {
    const page = method === 'GET' && pages ? Object.entries(pages.pages).find(([name]) => path === `/_local/${name}`)?.[1] : undefined;
    if (page && pages) return renderPage(page, pages.context, query, pages.log);
    if (bus && method === 'GET' && path === '/_local/bus') {
      const raw = query.get('limit') ?? '100';
      if (!/^\d{1,5}$/.test(raw) || Number(raw) < 1 || Number(raw) > 10_000) {
        return json(400, { error: { code: 'invalid_limit', message: "'limit' must be an integer from 1 to 10000" } });
      }
      const busName = query.get('bus') ?? undefined;
      return json(200, { events: bus.list(Number(raw), busName).map(({ bus: _, ...event }) => event) });
    }
    if (bus && method === 'GET' && path === '/_local/bus/stats') return json(200, bus.figures());
    if (bus && busFaults && method === 'POST' && path === '/_local/bus/faults') {
      let body: { failNext?: unknown } = {};
      try {
        body = JSON.parse(requestBody.toString('utf8') || '{}') as typeof body;
      } catch {
        // answered below
      }
      if (typeof body.failNext !== 'number' || !Number.isInteger(body.failNext) || body.failNext < 0) {
        return json(400, { error: { code: 'invalid_body', message: 'send {"failNext": N}: the next N bus entries fail' } });
      }
      bus.failNext(body.failNext);
      return json(200, { failNext: body.failNext, ...bus.stats });
    }
    if (method === 'GET' && path === '/_local/jwks.json') return json(200, jwksDocument(keys));
    if (method === 'GET' && path === '/_local/issuer/.well-known/openid-configuration') {
      return json(200, { issuer: issuer.url, jwks_uri: issuer.jwksUri, id_token_signing_alg_values_supported: ['RS256'] });
    }
    if (method === 'GET' && path === '/_local/health') return json(200, health());
    if (method === 'GET' && path === '/_local/stats') return json(200, stats());
    if (method === 'GET' && path === '/_local/') {
      return {
        statusCode: 200,
        headers: [
          ['Content-Type', 'text/html; charset=utf-8'],
          ['Cache-Control', 'no-store'],
        ],
        body: Buffer.from(STATUS_PAGE_HTML),
      };
    }
    if (method === 'GET' && path === '/_local/metrics') return json(200, await metrics());
    if (path === '/_local/clock' && (method === 'GET' || method === 'POST')) {
      if (method === 'POST') {
        let body: { offsetMs?: unknown; advanceMs?: unknown } = {};
        try {
          body = JSON.parse(requestBody.toString('utf8') || '{}') as typeof body;
        } catch {
          // answered below
        }
        if (typeof body.offsetMs === 'number') clock.offsetMs = body.offsetMs;
        else if (typeof body.advanceMs === 'number') clock.offsetMs += body.advanceMs;
        else return json(400, { error: { code: 'invalid_body', message: 'send {"offsetMs": N} or {"advanceMs": N}' } });
      }
      return json(200, { offsetMs: clock.offsetMs, now: new Date(clock.now()).toISOString() });
    }
    if (method === 'POST' && path === '/_local/schedules/run') return json(200, { results: await runSchedules() });
    if (path === '/_local/faults' && faults && (method === 'GET' || method === 'POST')) {
      if (method === 'POST') {
        try {
          faults.setRules(parseFaultRules(JSON.parse(requestBody.toString('utf8') || '{}')));
        } catch (e) {
          return json(400, { error: { code: 'invalid_body', message: (e as Error).message } });
        }
      }
      return json(200, faults.stats());
    }
    return errorAnswer(404, 'not_found', `No local route ${method} ${path}`);
  };

/** An app page's answer: never cached; a page that fails is a 502 naming why (local mode only). */
export const renderPage = async (
  page: LocalPage,
  ctx: LocalPageContext,
  query: URLSearchParams,
  log: (line: string) => void,
): Promise<HttpAnswer> => {
  try {
    const { contentType, body, headers = {} } = await page.render(ctx, query);
    return {
      statusCode: 200,
      headers: [['Content-Type', contentType], ['Cache-Control', 'no-store'], ...Object.entries(headers)],
      body: Buffer.from(body),
    };
  } catch (e) {
    log(`page ${page.title} failed: ${(e as Error).message}`);
    return errorAnswer(502, 'page_failed', `${page.title}: ${(e as Error).message}`);
  }
};
