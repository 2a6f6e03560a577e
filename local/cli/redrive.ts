/**
 * `redrive`: moves every message of each dead-letter queue of the running local stack back to its
 * source queue (redrive.ts) and prints the counts.
 *
 *   redrive [--url http://127.0.0.1:3000]      env: PORT (default 3000)
 */
import { parseArgs } from 'node:util';
import { SQSClient } from '@aws-sdk/client-sqs';
import { redrive, redrivePairs } from '../redrive';

/** Runs `redrive` with the arguments after the command name. */
export const runRedrive = async (args: readonly string[]) => {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const { values } = parseArgs({ args: [...args], options: { url: { type: 'string' } }, strict: true });
  const baseUrl = values.url ?? `http://127.0.0.1:${process.env.PORT || 3000}`;
  const res = await fetch(`${baseUrl}/_local/health`).catch(() => undefined);
  if (!res?.ok) throw new Error(`no local stack answers at ${baseUrl} (start it with npm start)`);
  const health = (await res.json()) as { region: string; endpoints: { sqs: string }; queues: Record<string, { url: string; arn: string }> };
  const sqs = new SQSClient({
    region: health.region,
    endpoint: health.endpoints.sqs,
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  try {
    for (const { source, dlq } of await redrivePairs(sqs, health.queues)) {
      const result = await redrive(sqs, dlq.url, source.url);
      process.stdout.write(`${dlq.arn} → ${source.arn}: moved ${result.moved}${result.failed ? `, failed ${result.failed}` : ''}\n`);
    }
  } finally {
    sqs.destroy();
  }
};
