import { type AthenaClient, GetQueryExecutionCommand, GetQueryResultsCommand, StartQueryExecutionCommand } from '@aws-sdk/client-athena';
import type { AthenaQueries } from '../core/archive-erasure';

/** Athena in one workgroup (its result location and encryption are the workgroup's, enforced) and one database. */
export const athenaQueries = (client: () => AthenaClient, workGroup: string, database: string): AthenaQueries => ({
  async start(sql, clientRequestToken) {
    const out = await client().send(
      new StartQueryExecutionCommand({
        QueryString: sql,
        ClientRequestToken: clientRequestToken,
        WorkGroup: workGroup,
        QueryExecutionContext: { Catalog: 'AwsDataCatalog', Database: database },
      }),
    );
    if (!out.QueryExecutionId) throw new Error('StartQueryExecution returned no QueryExecutionId');
    return out.QueryExecutionId;
  },
  async status(queryId) {
    const out = await client().send(new GetQueryExecutionCommand({ QueryExecutionId: queryId }));
    const state = out.QueryExecution?.Status?.State;
    if (state === 'SUCCEEDED') return { state: 'succeeded' };
    if (state === 'FAILED' || state === 'CANCELLED')
      return { state: 'failed', reason: `${state}: ${out.QueryExecution?.Status?.StateChangeReason ?? 'no reason given'}` };
    return { state: 'running' };
  },
  async rows(queryId) {
    const rows: string[][] = [];
    let nextToken: string | undefined;
    let first = true;
    do {
      const out = await client().send(new GetQueryResultsCommand({ QueryExecutionId: queryId, MaxResults: 1000, NextToken: nextToken }));
      const page = (out.ResultSet?.Rows ?? []).map((r) => (r.Data ?? []).map((d) => d.VarCharValue ?? ''));
      // The first row of a SELECT's first page is its header.
      rows.push(...(first ? page.slice(1) : page));
      first = false;
      nextToken = out.NextToken;
    } while (nextToken);
    return rows;
  },
});
