/**
 * `npm run --silent verify -- --tenant T [--from ISO] [--to ISO] [--stage S]`: re-derives a
 * tenant's digests from the stored events, checks the chain and the signatures (with the KMS
 * key's public key only), prints a one-line summary and every discrepancy; exit 0 when all
 * verifies, 1 when not, 2 on bad usage.
 *
 * Against the running local stack by default (PORT, default 3000: its /_local/health names the
 * emulators, the table, the bucket and the key). With `--stage S`, against a deployed stack: the
 * table, bucket and key come from DIGEST_TABLE, DIGEST_BUCKET and DIGEST_KEY_ID (the stack's
 * outputs / the sealer's environment) and the usual AWS credentials.
 */
import { createPublicKey, verify } from 'node:crypto';

// Node 20 runs local mode; the SDK's "use Node 22" notice is not this command's output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetPublicKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { connectLocal } from '@activity-tracker/local';
import { ENV } from '../contract';
import type { SignedDigest } from '../lambdas/core/digest';
import { formatReport, verifyDigests } from '../lambdas/core/digest-verify';
import type { EventItem } from '../lambdas/core/item-keys';
import { unpackItem } from '../lambdas/core/payload';

const USAGE = 'usage: npm run --silent verify -- --tenant T [--from ISO] [--to ISO] [--stage S]';

interface Target {
  readonly region: string;
  readonly table: string;
  readonly bucket: string;
  readonly keyId: string;
  readonly endpoints?: { readonly dynamodb: string; readonly s3: string; readonly kms: string };
  readonly credentials?: { accessKeyId: string; secretAccessKey: string };
}

const parseArgs = (argv: readonly string[]): Record<string, string> => {
  const args: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i] ?? '';
    const value = argv[i + 1];
    if (!['--tenant', '--from', '--to', '--stage'].includes(name) || value === undefined)
      throw new Error(`unknown or incomplete argument '${name}'`);
    args[name.slice(2)] = value;
    i++;
  }
  if (!args.tenant) throw new Error('--tenant is required');
  for (const key of ['from', 'to'] as const) {
    if (args[key] !== undefined && Number.isNaN(Date.parse(args[key]))) throw new Error(`--${key} must be an ISO time, got '${args[key]}'`);
  }
  return args;
};

const localTarget = async (): Promise<Target> => {
  const baseUrl = `http://127.0.0.1:${process.env.PORT ?? 3000}`;
  const { health } = await connectLocal(baseUrl);
  /** The app's one resource of that kind under that logical-id prefix (the Storage table, the Digests bucket and key). */
  const only = (what: string, values: Record<string, string>, prefix = '') => {
    const list = Object.entries(values).filter(([logicalId]) => logicalId.startsWith(prefix));
    if (list.length !== 1) throw new Error(`the local stack has ${list.length} ${what}; expected one`);
    return list[0]?.[1] as string;
  };
  return {
    region: health.region,
    table: only('event tables', health.tables, 'StorageTable'),
    bucket: only('digest buckets', health.buckets, 'DigestsBucket'),
    keyId: only('digest signing keys', health.kmsKeys, 'DigestsSigningKey'),
    endpoints: { dynamodb: health.endpoints.dynamodb, s3: health.endpoints.s3, kms: health.endpoints.kms },
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  };
};

const stageTarget = (stage: string): Target => {
  const need = (name: string) => {
    const value = process.env[name];
    if (!value) throw new Error(`--stage ${stage}: set ${name} (see docs/security.md)`);
    return value;
  };
  return {
    region: process.env.AWS_REGION ?? 'us-east-1',
    table: need('DIGEST_TABLE'),
    bucket: need('DIGEST_BUCKET'),
    keyId: need('DIGEST_KEY_ID'),
  };
};

const main = async (): Promise<number> => {
  let args: Record<string, string>;
  try {
    args = parseArgs(process.argv.slice(2));
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const tenant = args.tenant as string;
  const target = args.stage ? stageTarget(args.stage) : await localTarget();
  const common = { region: target.region, ...(target.credentials && { credentials: target.credentials }) };
  const ddb = DynamoDBDocumentClient.from(
    new DynamoDBClient({ ...common, ...(target.endpoints && { endpoint: target.endpoints.dynamodb }) }),
  );
  const s3 = new S3Client({ ...common, ...(target.endpoints && { endpoint: target.endpoints.s3, forcePathStyle: true }) });
  const kms = new KMSClient({ ...common, ...(target.endpoints && { endpoint: target.endpoints.kms }) });

  // The public key only: anyone may hold it; nothing here can sign.
  const { PublicKey } = await kms.send(new GetPublicKeyCommand({ KeyId: target.keyId }));
  if (!PublicKey) throw new Error('KMS returned no public key');
  const publicKey = createPublicKey({ key: Buffer.from(PublicKey), format: 'der', type: 'spki' });

  const digests: { key: string; signed: SignedDigest | undefined }[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: target.bucket, Prefix: `digests/${tenant}/`, ContinuationToken: token }));
    for (const object of page.Contents ?? []) {
      const body = await (await s3.send(new GetObjectCommand({ Bucket: target.bucket, Key: object.Key }))).Body?.transformToString();
      let signed: SignedDigest | undefined;
      try {
        signed = JSON.parse(body ?? '') as SignedDigest;
      } catch {
        signed = undefined;
      }
      digests.push({ key: object.Key as string, signed });
    }
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  digests.sort((a, b) => (a.key < b.key ? -1 : 1));

  const items: EventItem[] = [];
  for (let shard = 0; shard < ENV.shardCount.max; shard++) {
    let start: Record<string, unknown> | undefined;
    do {
      const out = await ddb.send(
        new QueryCommand({
          TableName: target.table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': `${tenant}#${shard}` },
          ConsistentRead: true,
          ...(start && { ExclusiveStartKey: start }),
        }),
      );
      items.push(...((out.Items ?? []) as EventItem[]).map((item) => unpackItem(item)));
      start = out.LastEvaluatedKey;
    } while (start);
  }

  const report = verifyDigests({
    tenant,
    digests,
    items,
    verifySignature: (bytes, signature) => verify('sha256', bytes, publicKey, signature),
    ...(args.from && { from: Date.parse(args.from) }),
    ...(args.to && { to: Date.parse(args.to) }),
    now: Date.now(),
  });
  for (const line of formatReport(tenant, report)) console.log(line);
  return report.ok ? 0 : 1;
};

main().then(
  (code) => process.exit(code),
  (error: Error) => {
    console.error(`verify failed: ${error.message}`);
    process.exit(2);
  },
);
