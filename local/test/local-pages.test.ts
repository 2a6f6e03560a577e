import { localRoutes } from '../runtime/local-routes';
import type { LocalPage, LocalPageContext } from '../runtime/types';

/** The app pages hook: GET /_local/<name> renders the page with the runtime's context. */
const context: LocalPageContext = { baseUrl: 'http://127.0.0.1:3000', token: (opts) => `token-for-${opts.tenant}` };
const demo: LocalPage = {
  title: 'demo',
  render: async (ctx, query) => ({
    contentType: 'text/html; charset=utf-8',
    body: `<p>${ctx.baseUrl} ${ctx.token({ tenant: query.get('tenant') ?? 'acme', scope: 'events:read' })}</p>`,
    headers: { 'Content-Security-Policy': "default-src 'self'" },
  }),
};
const failing: LocalPage = {
  title: 'broken',
  render: async () => {
    throw new Error('the API answered 401');
  },
};

const routes = (log: string[] = []) =>
  localRoutes({
    keys: undefined as never,
    issuer: undefined as never,
    clock: undefined as never,
    health: () => ({}),
    stats: () => ({ pollers: {}, functions: {}, streams: {} }),
    metrics: async () => ({}),
    runSchedules: async () => [],
    pages: { pages: { demo, broken: failing }, context, log: (line) => log.push(line) },
  });
const header = (answer: { headers: [string, string][] }, name: string) =>
  answer.headers.find(([k]) => k.toLowerCase() === name.toLowerCase())?.[1];

describe('app pages under /_local/', () => {
  it('renders GET /_local/<name> with the runtime context and the query, never cached, with the page headers', async () => {
    const answer = await routes()('GET', '/_local/demo', Buffer.alloc(0), new URLSearchParams('tenant=globex'));
    expect(answer.statusCode).toBe(200);
    expect(answer.body.toString()).toBe('<p>http://127.0.0.1:3000 token-for-globex</p>');
    expect(header(answer, 'content-type')).toBe('text/html; charset=utf-8');
    expect(header(answer, 'cache-control')).toBe('no-store');
    expect(header(answer, 'content-security-policy')).toBe("default-src 'self'");
  });

  it('answers a failing page with 502 naming why, and logs it', async () => {
    const log: string[] = [];
    const answer = await routes(log)('GET', '/_local/broken', Buffer.alloc(0));
    expect(answer.statusCode).toBe(502);
    expect(JSON.parse(answer.body.toString()).error.message).toBe('broken: the API answered 401');
    expect(log).toEqual(['page broken failed: the API answered 401']);
  });

  it('serves pages to GET only, and no other path', async () => {
    expect((await routes()('POST', '/_local/demo', Buffer.alloc(0))).statusCode).toBe(404);
    expect((await routes()('GET', '/_local/demo/x', Buffer.alloc(0))).statusCode).toBe(404);
  });
});
