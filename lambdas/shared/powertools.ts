import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

/** Powertools singletons, one set per cold start; service and namespace come from POWERTOOLS_* env. */
export const logger = new Logger();
export const tracer = new Tracer();
export const metrics = new Metrics();
