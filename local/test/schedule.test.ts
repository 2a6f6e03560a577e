import { nextFireTime, parseScheduleExpression, scheduledEvent } from '../schedule';

const at = (iso: string) => new Date(iso);

describe('parseScheduleExpression', () => {
  it.each([
    ['rate(1 minute)', 60_000],
    ['rate(5 minutes)', 300_000],
    ['rate(1 hour)', 3_600_000],
    ['rate(12 hours)', 43_200_000],
    ['rate(1 day)', 86_400_000],
    ['rate(7 days)', 604_800_000],
  ])('reads %s', (expr, ms) => {
    expect(parseScheduleExpression(expr)).toEqual({ kind: 'rate', intervalMs: ms });
  });

  it.each(['rate(0 minutes)', 'rate(1 week)', 'every day', 'cron(0 3 * * *)', 'cron(0 3 1 * MON *)'])(
    'reports %s as unsupported, not a guess',
    (expr) => {
      expect(parseScheduleExpression(expr).kind).toBe('unsupported');
    },
  );

  it.each(['cron(0 12 L * ? *)', 'cron(0 12 15W * ? *)', 'cron(0 12 ? * 6L *)', 'cron(0 12 ? * MON#2 *)'])(
    'reports %s (L, W, #) as unsupported so it runs only on demand',
    (expr) => {
      const s = parseScheduleExpression(expr);
      expect(s.kind).toBe('unsupported');
    },
  );
});

describe('nextFireTime', () => {
  it('fires a rate every interval from the origin', () => {
    const s = parseScheduleExpression('rate(1 day)');
    const origin = at('2026-11-21T10:00:00Z');
    expect(nextFireTime(s, origin, origin)).toEqual(at('2026-11-22T10:00:00Z'));
    expect(nextFireTime(s, at('2026-11-22T10:00:00Z'), origin)).toEqual(at('2026-11-23T10:00:00Z'));
    expect(nextFireTime(s, at('2026-11-22T11:00:00Z'), origin)).toEqual(at('2026-11-23T10:00:00Z'));
  });

  it.each([
    ['cron(0 3 * * ? *)', '2026-11-21T10:00:00Z', '2026-11-22T03:00:00Z'],
    ['cron(0 3 * * ? *)', '2026-11-21T02:59:30Z', '2026-11-21T03:00:00Z'],
    ['cron(*/15 * * * ? *)', '2026-11-21T10:07:00Z', '2026-11-21T10:15:00Z'],
    ['cron(0/20 9-17 ? * MON-FRI *)', '2026-11-21T10:00:00Z', '2026-11-23T09:00:00Z'], // 21 Nov 2026 is a Saturday
    ['cron(30 2 1 * ? *)', '2026-11-21T10:00:00Z', '2026-12-01T02:30:00Z'],
    ['cron(0 0 1 JAN ? *)', '2026-11-21T10:00:00Z', '2027-01-01T00:00:00Z'],
    ['cron(0 8 ? * SUN,3 *)', '2026-11-21T10:00:00Z', '2026-11-22T08:00:00Z'],
    ['cron(0 0 29 2 ? *)', '2026-11-21T10:00:00Z', '2028-02-29T00:00:00Z'],
    ['cron(0 12 * * ? 2027)', '2026-11-21T10:00:00Z', '2027-01-01T12:00:00Z'],
  ])('%s after %s → %s', (expr, after, expected) => {
    expect(nextFireTime(parseScheduleExpression(expr), at(after))).toEqual(at(expected));
  });

  it('never fires a cron limited to past years', () => {
    expect(nextFireTime(parseScheduleExpression('cron(0 12 * * ? 2020)'), at('2026-11-21T10:00:00Z'))).toBeUndefined();
  });
});

describe('scheduledEvent', () => {
  it('has the shape EventBridge sends to a scheduled target', () => {
    expect(
      scheduledEvent({
        id: 'e-1',
        time: at('2026-11-22T03:00:00.123Z'),
        region: 'us-east-1',
        accountId: '000000000000',
        ruleArn: 'arn:aws:events:us-east-1:000000000000:rule/Cron',
      }),
    ).toEqual({
      version: '0',
      id: 'e-1',
      'detail-type': 'Scheduled Event',
      source: 'aws.events',
      account: '000000000000',
      time: '2026-11-22T03:00:00Z',
      region: 'us-east-1',
      resources: ['arn:aws:events:us-east-1:000000000000:rule/Cron'],
      detail: {},
    });
  });
});
