import type { APIGatewayProxyEvent } from 'aws-lambda';
import { correlationIdOf } from '../../../lambdas/shared/telemetry';

const eventWith = (requestId: string | undefined) =>
  ({
    headers: requestId === undefined ? {} : { 'X-Request-Id': requestId },
    requestContext: { requestId: 'apigw-req-1' },
  }) as unknown as APIGatewayProxyEvent;

describe('correlation id (issue 17 item 8)', () => {
  it.each(['a', 'client-req-0001', 'trace:1.2_3-4', 'x'.repeat(64), '0123456789abcdef0123456789abcdef'])(
    "uses a client's x-request-id of a strict shape: %s",
    (id) => {
      expect(correlationIdOf(eventWith(id))).toBe(id);
    },
  );

  it.each([
    ['too long', 'x'.repeat(65)],
    ['empty', ''],
    ['spaces and markup', 'has spaces <script>'],
    ['a newline (log injection)', 'ok\n{"level":"ERROR"}'],
    ['quotes', 'a"b'],
    ['non-ASCII', 'réq-1'],
    ['a slash', 'a/b'],
    ['a lone surrogate', 'a\ud800'],
  ])("falls back to API Gateway's request id for a client id with %s", (_, id) => {
    expect(correlationIdOf(eventWith(id))).toBe('apigw-req-1');
  });

  it("uses API Gateway's request id when none is sent", () => {
    expect(correlationIdOf(eventWith(undefined))).toBe('apigw-req-1');
  });
});
