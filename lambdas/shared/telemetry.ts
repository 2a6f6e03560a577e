import { randomUUID } from 'node:crypto';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { EVENT_ERROR_CODES } from '../../contract';
import { header } from './http';
import { metrics, tracer } from './powertools';

/**
 * Observability helpers shared by the handlers: correlation ids, X-Ray subsegments with
 * annotations, and the metrics whose dimensions must stay bounded.
 */

/**
 * What a client may send as `x-request-id`: a short opaque token, never free text — it is logged,
 * sent back as a header and carried to the writer, so no spaces, quotes, controls, markup or
 * non-ASCII, and at most 64 characters.
 */
const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/**
 * One correlation id per API request: a valid client-sent `x-request-id` (so a client can find
 * its own request in our logs), else API Gateway's request id.
 */
export const correlationIdOf = (event: Pick<APIGatewayProxyEvent, 'headers' | 'requestContext'>): string => {
  const sent = header(event, 'x-request-id');
  if (sent !== undefined && CLIENT_REQUEST_ID.test(sent)) return sent;
  return event.requestContext?.requestId || randomUUID();
};

/**
 * Runs `fn` in an X-Ray subsegment `## name` (the Lambda facade segment itself takes no
 * annotations), annotated with cold start and service; errors are recorded as metadata.
 * A no-op wrapper where tracing is off (tests, local mode without a daemon).
 */
export const traced = async <T>(name: string, fn: () => Promise<T>): Promise<T> => {
  const parent = tracer.isTracingEnabled() ? tracer.getSegment() : undefined;
  if (!parent) return fn();
  const sub = parent.addNewSubsegment(`## ${name}`);
  tracer.setSegment(sub);
  tracer.annotateColdStart();
  tracer.addServiceNameAnnotation();
  try {
    return await fn();
  } catch (error) {
    tracer.addErrorAsMetadata(error as Error);
    throw error;
  } finally {
    sub.close();
    tracer.setSegment(parent);
  }
};

/** Annotations are indexed and searchable: ids and counts only, never personal data. */
export const annotate = (annotations: Readonly<Record<string, string | number | boolean>>): void => {
  if (!tracer.isTracingEnabled()) return;
  for (const [key, value] of Object.entries(annotations)) tracer.putAnnotation(key, value);
};

/**
 * The per-event rejection codes of the API contract (contract/errors.ts): a small fixed set, so
 * `reason` is a dimension of bounded cardinality. Anything else is `other`.
 */
export const REJECTION_REASONS: ReadonlySet<string> = new Set(EVENT_ERROR_CODES);

export const rejectionReason = (code: string): string => (REJECTION_REASONS.has(code) ? code : 'other');

/**
 * `EventsRejected` by reason: one EMF document per reason with dimensions service + reason
 * (the total `EventsRejected`, service only, is published by the caller).
 */
export const publishRejections = (codes: readonly string[]): void => {
  const counts = new Map<string, number>();
  for (const code of codes) {
    const reason = rejectionReason(code);
    counts.set(reason, (counts.get(reason) ?? 0) + 1);
  }
  for (const [reason, count] of counts) {
    const single = metrics.singleMetric();
    single.addDimension('reason', reason);
    single.addMetric('EventsRejectedByReason', MetricUnit.Count, count);
  }
};

/** The X-Ray root trace id of an `AWSTraceHeader` (`Root=1-...;Parent=...;Sampled=1`). */
export const traceRootOf = (traceHeader: string | undefined): string | undefined =>
  /(?:^|;)\s*Root=([0-9a-f-]+)/i.exec(traceHeader ?? '')?.[1];

export { metrics, tracer };
