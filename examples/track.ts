/**
 * Tracks a few events with the client against local mode, then reads them back.
 *
 *   npm start                      # in one terminal: wait for "ready on http://127.0.0.1:3000"
 *   npx tsx examples/track.ts      # in another
 *
 * Against a deployed stack, set API_URL to the stack's ApiUrl output and TOKEN to an access token.
 */
import { execFileSync } from 'node:child_process';
import { createClient, type EventRejectedError } from '../client';

const baseUrl = process.env.API_URL ?? 'http://127.0.0.1:3000';
const tenant = process.env.TENANT ?? 'acme';

/** A token from the local issuer (`npm run --silent token`), fetched again when it is ten minutes old. */
let cached: { token: string; at: number } | undefined;
const token = (): string => {
  if (process.env.TOKEN) return process.env.TOKEN;
  if (!cached || Date.now() - cached.at > 10 * 60_000) {
    const out = execFileSync('npm', ['run', '--silent', 'token', '--', '--tenant', tenant, '--scope', 'events:write events:read'], {
      encoding: 'utf8',
      // The local issuer puts the port in `iss`: the token must name the port the API runs on.
      env: { ...process.env, PORT: new URL(baseUrl).port || '80' },
    });
    cached = { token: out.trim(), at: Date.now() };
  }
  return cached.token;
};

const main = async () => {
  const tracker = createClient({
    baseUrl,
    token,
    batch: { flushIntervalMs: 200 },
    onError: (error, event) => console.error(`not stored: ${event.type} (${error.message})`),
  });

  // track() buffers; events go out in batches (by count, size and time), each with an
  // idempotencyKey so a retried batch is stored once.
  const userId = `u-${Date.now()}`;
  const ids = await Promise.all([
    tracker.track({ type: 'user.login', userId }),
    tracker.track({ type: 'page.viewed', userId, target: { type: 'page', id: '/pricing' } }),
    tracker.track({ type: 'customer.billed', userId, details: { amount: 1200, currency: 'EUR' } }),
  ]);
  console.log(`tracked ${ids.length} events: ${ids.join(', ')}`);

  // A per-event error rejects that event's promise only.
  await tracker.track({ type: 'Not Valid', userId }).catch((e: EventRejectedError) => console.log(`rejected as expected: ${e.code}`));

  // The writer stores events asynchronously (a second or two locally).
  let found = 0;
  for (let tries = 0; tries < 50 && found < ids.length; tries++) {
    await new Promise((r) => setTimeout(r, 200));
    found = (await tracker.events.list({ userId }).all()).length;
  }
  for await (const event of tracker.events.list({ userId, order: 'asc' })) {
    console.log(`${event.occurredAt} ${event.type}${event.details ? ` ${JSON.stringify(event.details)}` : ''}`);
  }
  await tracker.close();
  if (found !== ids.length) throw new Error(`expected ${ids.length} events, found ${found}`);
};

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
