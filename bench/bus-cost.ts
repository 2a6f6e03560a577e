/**
 * Cost per million 1 KB events of publishing them on the bus and archiving them (issue 15's goal:
 * ≤ $1.50 together), the Athena cost of the example queries, and the archive eraser's Athena cost
 * per erasure. The model is bench/bus-cost-model.ts (the lifetime model adds the same lines).
 * `npm run --silent bench:bus`
 */
import { ASSUME, busArchiveCost, ERASER_ASSUME, GB, MILLION, PRICES } from './bus-cost-model';

const main = () => {
  const { bytes, calls, eventBridge, lambda, markerReads, publishing, archive, archiveTotal, parquetGb } = busArchiveCost();
  const out = (line = '') => process.stdout.write(`${line}\n`);
  out('Bus publishing and archive, per million 1 KB events (us-east-1 list prices)');
  out(
    `  bus entry: ${bytes} bytes (${Math.ceil(bytes / 65_536)} × 64 KB chunk); ${calls} PutEvents calls per ${ASSUME.publisherBatch} records`,
  );
  out(
    `  publishing: EventBridge $${eventBridge.toFixed(3)} + publisher Lambda $${lambda.toFixed(4)} + erasure-marker reads $${markerReads.toFixed(4)} = $${publishing.toFixed(3)}`,
  );
  for (const [k, v] of Object.entries(archive)) out(`  archive ${k}: $${v.toFixed(4)}`);
  out(`  archive total: $${archiveTotal.toFixed(3)} (first month of storage included)`);
  out(`  publishing + archive: $${(publishing + archiveTotal).toFixed(3)} (goal ≤ $1.50)`);
  out(`  archive size: ${(parquetGb * 1024).toFixed(0)} MB Parquet per million events`);
  const perGb = PRICES.athenaPerTbScanned / 1024;
  out(`Athena: $${perGb.toFixed(4)} per GB scanned (10 MB minimum per query)`);
  const yearOfTenant = (100 * MILLION * ASSUME.parquetBytesPerEvent) / GB;
  out(
    `  a tenant with 100 M events a year: ${yearOfTenant.toFixed(1)} GB of Parquet; top types over the year reads the type column (~10%): $${(yearOfTenant * 0.1 * perGb).toFixed(3)}`,
  );
  out(
    `  daily active users for a month reads userid over 1/12 of it (~15%): $${((yearOfTenant / 12) * 0.15 * perGb).toFixed(4)}; one user's history scans every column: $${(yearOfTenant * perGb).toFixed(3)}`,
  );

  // The eraser: a listing reads userid and receivedat of the tenant's whole archive; the rewrite reads every column of the user's files only.
  const e = ERASER_ASSUME;
  const tenantArchiveGb = yearOfTenant * e.yearsArchived;
  const listingGb = tenantArchiveGb * e.listingColumnShare;
  const fileGb = yearOfTenant / 365 / ASSUME.bufferFlushesPerDay;
  const rewriteGb = e.userActiveDays * e.userFilesPerActiveDay * fileGb;
  const s3Requests = e.userActiveDays * e.userFilesPerActiveDay * 3 * (PRICES.s3PerThousandPuts / 1000);
  out(
    `Archive eraser, per erasure (a user of that tenant, ${e.yearsArchived} years archived, active ${e.userActiveDays} days in ${e.userFilesPerActiveDay} files a day):`,
  );
  out(
    `  listing scans ${listingGb.toFixed(1)} GB (userid + receivedat, ~${e.listingColumnShare * 100}% of ${tenantArchiveGb.toFixed(0)} GB): $${(listingGb * perGb).toFixed(3)}; ` +
      `UNLOAD rewrite scans ${rewriteGb.toFixed(2)} GB: $${(Math.max(rewriteGb, 0.01) * perGb).toFixed(4)}; S3 copies/deletes/UNLOAD puts ~$${s3Requests.toFixed(4)}`,
  );
  out(
    `  total ≈ $${((listingGb + Math.max(rewriteGb, 0.01)) * perGb + s3Requests).toFixed(3)} per erasure; in general $${perGb.toFixed(4)} × (${e.listingColumnShare} × the tenant's archive GB + the user's files' GB)`,
  );
  out('  not included: Firehose JQ processing hours ($0.07 per hour of JQ compute), Athena query results in S3');
  out(`assumptions: ${JSON.stringify({ ...ASSUME, eraser: ERASER_ASSUME })}`);
};

main();
