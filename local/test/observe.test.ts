import { formatFunctionLine, LocalMetrics, parseEmf } from '../observe';

const emfLine = (metrics: Record<string, number | number[]>, dims: Record<string, string> = {}) =>
  JSON.stringify({
    _aws: {
      Timestamp: Date.parse('2026-11-21T10:00:01.250Z'),
      CloudWatchMetrics: [
        {
          Namespace: 'ActivityTracker',
          Dimensions: [['service', ...Object.keys(dims)]],
          Metrics: Object.keys(metrics).map((Name) => ({ Name, Unit: 'Count' })),
        },
      ],
    },
    service: 'activity-tracker',
    ...dims,
    ...metrics,
  });

const logLine = (fields: Record<string, unknown>) =>
  JSON.stringify({
    level: 'INFO',
    message: 'record handled',
    timestamp: '2026-11-21T10:00:00.123Z',
    service: 'activity-tracker',
    cold_start: true,
    function_name: 'fn',
    function_request_id: 'abc',
    xray_trace_id: '1-2-3',
    sampling_rate: 0,
    ...fields,
  });

describe('local telemetry: pretty function logs', () => {
  it('prints a Powertools line as time, level, [fn], message and the non-standard keys', () => {
    expect(formatFunctionLine('Writer', logLine({ correlation_id: 'req-1', outcome: 'stored', receiveCount: 1 }))).toBe(
      '10:00:00.123 INFO  [Writer] record handled correlation_id=req-1 outcome=stored receiveCount=1',
    );
  });

  it('quotes values with spaces and prints objects as JSON', () => {
    expect(formatFunctionLine('Ingest', logLine({ level: 'WARN', message: 'x', reason: 'a b', detail: { n: 1 } }))).toBe(
      '10:00:00.123 WARN  [Ingest] x reason="a b" detail={"n":1}',
    );
  });

  it('prints an EMF line as METRIC with its values and extra dimensions', () => {
    expect(formatFunctionLine('Ingest', emfLine({ EventsRejectedByReason: 2 }, { reason: 'type_invalid' }))).toBe(
      '10:00:01.250 METRIC [Ingest] EventsRejectedByReason=2 reason=type_invalid',
    );
    expect(formatFunctionLine('Writer', emfLine({ EndToEndLag: [12, 40] }))).toBe('10:00:01.250 METRIC [Writer] EndToEndLag=[12,40]');
  });

  it('colours only when asked, and leaves other lines as they are', () => {
    expect(formatFunctionLine('Writer', logLine({}), { colour: true })).toContain('\x1b[32mINFO');
    expect(formatFunctionLine('Writer', logLine({}))).not.toContain('\x1b[');
    expect(formatFunctionLine('Writer', 'plain text from console.log')).toBe('[Writer] plain text from console.log');
    expect(formatFunctionLine('FunctionsWriter52E2D93B', 'x')).toBe('[FunctionsWriter] x');
  });
});

describe('local telemetry: metrics from EMF lines', () => {
  it('parses metrics and dimensions, ignoring other lines', () => {
    expect(parseEmf(emfLine({ EventsAccepted: 3 }))).toEqual({
      namespace: 'ActivityTracker',
      dimensions: { service: 'activity-tracker' },
      values: { EventsAccepted: [3] },
    });
    expect(parseEmf(logLine({}))).toBeUndefined();
    expect(parseEmf('not json')).toBeUndefined();
  });

  it('sums totals, keeps rejections by reason apart, and computes lag percentiles', () => {
    let now = Date.parse('2026-11-21T10:00:00Z');
    const m = new LocalMetrics({
      now: () => now,
      bucketSeconds: 5,
      buckets: 4,
      dashboard: {
        in: 'EventsAccepted',
        out: 'EventsWritten',
        rejected: 'EventsRejected',
        lag: 'EndToEndLag',
        byReason: { metric: 'EventsRejectedByReason', dimension: 'reason' },
      },
    });
    m.line('Ingest', emfLine({ EventsAccepted: 3, EventsRejected: 1 }));
    m.line('Ingest', emfLine({ EventsRejectedByReason: 1 }, { reason: 'type_invalid' }));
    now += 5000;
    m.line('Writer', emfLine({ EventsWritten: 3, EndToEndLag: [10, 20, 300] }));
    m.line('Writer', logLine({ level: 'ERROR', message: 'boom', correlation_id: 'req-9' }));
    const s = m.snapshot();
    expect(s.totals).toMatchObject({ EventsAccepted: 3, EventsRejected: 1, EventsWritten: 3 });
    expect(s.totals.EventsRejectedByReason).toBeUndefined();
    expect(s.rejectedByReason).toEqual({ type_invalid: 1 });
    expect(s.lag).toEqual({ samples: 3, p50: 20, p99: 300, max: 300 });
    expect(s.series.buckets.map((b) => [b.accepted, b.written])).toEqual([
      [0, 0],
      [0, 0],
      [3, 0],
      [0, 3],
    ]);
    expect(s.errors).toEqual([{ time: expect.any(String), fn: 'Writer', level: 'ERROR', message: 'boom', correlationId: 'req-9' }]);
  });
});
