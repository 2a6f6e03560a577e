import { ConfigError } from '../../contract';
import { loadConfig } from '../../lib/config';

const load = (context: Record<string, unknown> = {}) => loadConfig((key) => context[key]);

const OIDC = {
  authMode: 'oidc',
  issuer: 'https://idp.example.com/',
  audience: 'activity-tracker',
  jwksUri: 'https://idp.example.com/.well-known/jwks.json',
};

describe('loadConfig', () => {
  it('applies the documented defaults when no context is set', () => {
    expect(load()).toEqual({
      stage: 'dev',
      auth: { mode: 'cognito' },
      tenantClaim: 'tenant_id',
      maxTokenLifetimeSeconds: 86_400,
      clockSkewSeconds: 60,
      maxEventsPerRequest: 500,
      retentionDays: 365,
      tableClass: 'STANDARD_INFREQUENT_ACCESS',
      tenantRetentionDays: {},
      deleteGraceDays: 30,
      exportExpiryDays: 7,
      exportUrlSeconds: 900,
      corsAllowedOrigins: [],
      jwksMaxAgeSeconds: 900,
      authorizerCacheSeconds: 60,
      maxOpenErasures: 100,
      tenantRates: { requestsPerSecond: 50, eventsPerSecond: 1000 },
      tenantRateOverrides: {},
      cleanupChunkSize: 100,
      shardCount: 4,
      writerBatchSize: 100,
      writerBatchWindowSeconds: 1,
      writerTimeoutSeconds: 30,
      writerMaxConcurrency: 10,
      cleanupSchedule: 'rate(1 day)',
      digestPeriodMinutes: 60,
      digestRetentionDays: 400,
      logLevel: 'INFO',
      logRetentionDays: 30,
      apiThrottleRateLimit: 100,
      apiThrottleBurstLimit: 200,
      maxReceiveCount: 5,
      logSampleRate: 0,
      traceSampleRate: 0.01,
      alarms: { queueAgeSeconds: 300, api5xxPercent: 1, writerErrors: 1, cleanupMissedDays: 2 },
      busPublishing: true,
      archive: false,
      archiveRetentionDays: 1095,
      capacity: { mode: 'on-demand' },
      pointInTimeRecovery: true,
    });
  });

  it('reads provisioned capacity with its auto scaling bounds, and PITR off', () => {
    expect(load({ capacityMode: 'provisioned', provisionedMaxWriteUnits: '2000', pointInTimeRecovery: 'off' })).toMatchObject({
      capacity: { mode: 'provisioned', write: { min: 5, max: 2000 }, read: { min: 5, max: 500 }, targetUtilization: 70 },
      pointInTimeRecovery: false,
    });
    expect(() => load({ capacityMode: 'provisioned', provisionedTargetUtilization: '95' })).toThrow(/provisionedTargetUtilization/);
    expect(() => load({ capacityMode: 'provisioned', provisionedMinWriteUnits: '10', provisionedMaxWriteUnits: '9' })).toThrow(
      /provisionedMaxWriteUnits/,
    );
  });

  it('publishes on the bus by default, archives by default in prod only, and rejects an archive without the bus', () => {
    expect(load({ busPublishing: 'off' }).busPublishing).toBe(false);
    expect(load({ stage: 'prod' }).archive).toBe(true);
    expect(load({ stage: 'prod', archive: 'off' }).archive).toBe(false);
    expect(() => load({ busPublishing: 'maybe' })).toThrow(/busPublishing.*"on" or "off"/);
    expect(() => load({ archive: 'on', busPublishing: 'off' })).toThrow(/archive.*busPublishing=on/);
  });

  it('reads the log sample rate and the alarm settings, and rejects bad ones', () => {
    const config = load({
      logSampleRate: '0.1',
      alarmEmail: 'oncall@example.com',
      alarmQueueAgeSeconds: '900',
      alarmApi5xxPercent: '2.5',
      alarmWriterErrors: '3',
      alarmCleanupMissedDays: '3',
    });
    expect(config.logSampleRate).toBe(0.1);
    expect(config.alarms).toEqual({
      email: 'oncall@example.com',
      queueAgeSeconds: 900,
      api5xxPercent: 2.5,
      writerErrors: 3,
      cleanupMissedDays: 3,
    });
    expect(() => load({ logSampleRate: '2' })).toThrow(/logSampleRate/);
    expect(load({ traceSampleRate: '0.05' }).traceSampleRate).toBe(0.05);
    expect(() => load({ traceSampleRate: '-0.1' })).toThrow(/traceSampleRate/);
    expect(() => load({ alarmEmail: 'not-an-address' })).toThrow(/alarmEmail/);
    expect(() => load({ alarmQueueAgeSeconds: '10' })).toThrow(/alarmQueueAgeSeconds/);
    expect(() => load({ alarmCleanupMissedDays: '0' })).toThrow(/alarmCleanupMissedDays/);
    expect(() => load({ alarmCleanupMissedDays: '8' })).toThrow(/alarmCleanupMissedDays/);
    expect(load({ alarmCleanupMissedDays: '7' }).alarms.cleanupMissedDays).toBe(7);
    expect(() => load({ alarmQueueAgeSeconds: '345600' })).toThrow(/alarmQueueAgeSeconds/);
  });

  it('treats an empty string or null like an unset key', () => {
    expect(load({ shardCount: '', stage: null }).shardCount).toBe(4);
    expect(load({ stage: null }).stage).toBe('dev');
  });

  it('parses numbers given as strings with -c key=value', () => {
    const config = load({
      retentionDays: '90',
      deleteGraceDays: '7',
      shardCount: '16',
      writerBatchSize: '250',
      writerBatchWindowSeconds: '5',
      writerTimeoutSeconds: '60',
      writerMaxConcurrency: '50',
      logRetentionDays: '14',
      apiThrottleRateLimit: '12.5',
      apiThrottleBurstLimit: '25',
      maxReceiveCount: '8',
      maxTokenLifetimeSeconds: '3600',
      clockSkewSeconds: '0',
      maxEventsPerRequest: '100',
    });
    expect(config).toMatchObject({
      maxTokenLifetimeSeconds: 3600,
      clockSkewSeconds: 0,
      maxEventsPerRequest: 100,
      retentionDays: 90,
      deleteGraceDays: 7,
      shardCount: 16,
      writerBatchSize: 250,
      writerBatchWindowSeconds: 5,
      writerTimeoutSeconds: 60,
      writerMaxConcurrency: 50,
      logRetentionDays: 14,
      apiThrottleRateLimit: 12.5,
      apiThrottleBurstLimit: 25,
      maxReceiveCount: 8,
    });
  });

  it('accepts numbers given as JSON numbers in cdk.json', () => {
    expect(load({ shardCount: 8 }).shardCount).toBe(8);
  });

  it.each<[string, unknown]>([
    ['stage', 'my stage'],
    ['stage', 'x'.repeat(33)],
    ['stage', 42],
    ['authMode', 'saml'],
    ['tenantClaim', 'tenant id'],
    ['tenantClaim', 'a'.repeat(65)],
    ['tenantClaim', 'custom/tenant'],
    ['retentionDays', '0'],
    ['retentionDays', '3651'],
    ['retentionDays', '30days'],
    ['retentionDays', '1e2'],
    ['retentionDays', ' 30'],
    ['retentionDays', '12.5'],
    ['retentionDays', 12.5],
    ['retentionDays', true],
    ['deleteGraceDays', '0'],
    ['deleteGraceDays', '366'],
    ['shardCount', '0'],
    ['shardCount', '257'],
    ['shardCount', '0x10'],
    ['shardCount', '-1'],
    ['writerBatchSize', '0'],
    ['writerBatchSize', '10001'],
    ['writerBatchWindowSeconds', '-1'],
    ['writerBatchWindowSeconds', '301'],
    ['writerTimeoutSeconds', '0'],
    ['writerTimeoutSeconds', '901'],
    ['writerMaxConcurrency', '1'],
    ['writerMaxConcurrency', '1001'],
    ['cleanupSchedule', 'every day'],
    ['cleanupSchedule', 'rate(1 days)'],
    ['cleanupSchedule', 'rate(2 day)'],
    ['cleanupSchedule', 'rate(0 minutes)'],
    ['cleanupSchedule', 'rate(1 week)'],
    ['cleanupSchedule', 'cron(0 3 * *)'],
    ['logLevel', 'VERBOSE'],
    ['logRetentionDays', '31'],
    ['logRetentionDays', '0'],
    ['apiThrottleRateLimit', '0'],
    ['apiThrottleRateLimit', 'fast'],
    ['apiThrottleBurstLimit', '0'],
    ['apiThrottleBurstLimit', '2.5'],
    ['maxReceiveCount', '4'],
    ['maxReceiveCount', '1001'],
    ['maxTokenLifetimeSeconds', '59'],
    ['maxTokenLifetimeSeconds', '604801'],
    ['clockSkewSeconds', '-1'],
    ['clockSkewSeconds', '301'],
    ['maxEventsPerRequest', '0'],
    ['maxEventsPerRequest', '501'],
    ['tenantClaim', 'sub'],
    ['tenantClaim', 'client_id'],
    ['tenantClaim', 'cognito:groups'],
    ['cognitoDomainPrefix', 'Upper'],
    ['cognitoDomainPrefix', 'my-aws-tracker'],
    ['cognitoDomainPrefix', '-lead'],
    ['cognitoDomainPrefix', 'x'.repeat(64)],
  ])('rejects %s=%j with an error naming the key', (key, value) => {
    expect(() => load({ [key]: value })).toThrow(ConfigError);
    expect(() => load({ [key]: value })).toThrow(`"${key}"`);
  });

  it('accepts rate and cron schedules', () => {
    for (const expression of ['rate(1 minute)', 'rate(5 minutes)', 'rate(12 hours)', 'rate(2 days)', 'cron(0 3 * * ? *)']) {
      expect(load({ cleanupSchedule: expression }).cleanupSchedule).toBe(expression);
    }
  });

  it('accepts a log level in any case and normalizes it', () => {
    expect(load({ logLevel: 'debug' }).logLevel).toBe('DEBUG');
  });

  it('requires a batching window of at least one second for batches above 10', () => {
    expect(() => load({ writerBatchSize: '11', writerBatchWindowSeconds: '0' })).toThrow('"writerBatchWindowSeconds"');
    expect(load({ writerBatchSize: '10', writerBatchWindowSeconds: '0' }).writerBatchWindowSeconds).toBe(0);
  });

  describe('authMode=oidc', () => {
    it('reads issuer, a comma-separated audience list and the JWKS URI', () => {
      expect(load({ ...OIDC, audience: 'api-a, api-b' }).auth).toEqual({
        mode: 'oidc',
        issuer: 'https://idp.example.com/',
        audience: ['api-a', 'api-b'],
        jwksUri: 'https://idp.example.com/.well-known/jwks.json',
        scopeClaim: 'scope',
        scopeFormat: 'space-separated',
        accessTokenRule: 'typ',
      });
    });

    it('reads the access-token rule and refuses one it cannot apply', () => {
      expect(load({ ...OIDC, accessTokenRule: 'claim:token_type=access_token' }).auth).toMatchObject({
        accessTokenRule: 'claim:token_type=access_token',
      });
      expect(() => load({ ...OIDC, accessTokenRule: 'anything' })).toThrow('"accessTokenRule"');
      expect(() => load({ accessTokenRule: 'typ' })).toThrow('"accessTokenRule"');
    });

    it('reads the scope claim and its format', () => {
      expect(load({ ...OIDC, scopeClaim: 'scp', scopeFormat: 'array' }).auth).toMatchObject({ scopeClaim: 'scp', scopeFormat: 'array' });
      expect(() => load({ ...OIDC, scopeFormat: 'array' })).toThrow('"scopeFormat"');
      expect(() => load({ ...OIDC, scopeClaim: 'scp', scopeFormat: 'csv' })).toThrow('"scopeFormat"');
      expect(() => load({ ...OIDC, scopeClaim: 'my scopes' })).toThrow('"scopeClaim"');
    });

    it('lets the tenant claim be any well-formed claim, sub included', () => {
      expect(load({ ...OIDC, tenantClaim: 'sub' }).tenantClaim).toBe('sub');
    });

    it('rejects cognitoDomainPrefix, which only the cognito mode uses', () => {
      expect(() => load({ ...OIDC, cognitoDomainPrefix: 'acme-events' })).toThrow('"cognitoDomainPrefix"');
    });

    it.each(['issuer', 'audience', 'jwksUri'])('requires %s', (key) => {
      const context: Record<string, unknown> = { ...OIDC };
      delete context[key];
      expect(() => load(context)).toThrow(`"${key}"`);
      expect(() => load(context)).toThrow('required');
    });

    it.each(['issuer', 'jwksUri'])('requires %s to be an https URL', (key) => {
      expect(() => load({ ...OIDC, [key]: 'http://idp.example.com/' })).toThrow(`"${key}"`);
      expect(() => load({ ...OIDC, [key]: 'not a url' })).toThrow(`"${key}"`);
    });

    it('rejects an empty audience in the list', () => {
      expect(() => load({ ...OIDC, audience: 'api-a,,api-b' })).toThrow('"audience"');
    });
  });

  describe('authMode=cognito', () => {
    it.each(['issuer', 'audience', 'jwksUri'])('rejects %s, which the user pool provides', (key) => {
      expect(() => load({ [key]: OIDC[key as keyof typeof OIDC] })).toThrow(`"${key}"`);
    });

    it.each([
      ['scopeClaim', 'scp'],
      ['scopeFormat', 'array'],
    ])('rejects %s, fixed by Cognito', (key, value) => {
      expect(() => load({ [key]: value })).toThrow(`"${key}"`);
    });

    it('reads a domain prefix', () => {
      expect(load({ cognitoDomainPrefix: 'acme-events-prod' }).auth).toEqual({ mode: 'cognito', domainPrefix: 'acme-events-prod' });
    });
  });

  it('reads the per-tenant fairness limits and overrides, and rejects malformed ones', () => {
    const config = load({ tenantRequestsPerSecond: '20', tenantEventsPerSecond: 600, tenantRateOverrides: 'acme=200/5000, globex=5/500' });
    expect(config.tenantRates).toEqual({ requestsPerSecond: 20, eventsPerSecond: 600 });
    expect(config.tenantRateOverrides).toEqual({
      acme: { requestsPerSecond: 200, eventsPerSecond: 5000 },
      globex: { requestsPerSecond: 5, eventsPerSecond: 500 },
    });
    expect(() => load({ tenantRequestsPerSecond: '0' })).toThrow(/tenantRequestsPerSecond/);
    expect(() => load({ tenantRateOverrides: 'acme=200' })).toThrow(/tenantRateOverrides/);
    expect(() => load({ tenantRateOverrides: 'ac#me=1/500' })).toThrow(/tenantRateOverrides/);
    expect(() => load({ tenantRateOverrides: 'acme=0/500' })).toThrow(/tenantRateOverrides/);
  });

  it('refuses an events limit below maxEventsPerRequest (a full batch could never pass)', () => {
    expect(() => load({ tenantEventsPerSecond: 499 })).toThrow(
      'Invalid context "tenantEventsPerSecond": must be at least maxEventsPerRequest (500), got 499',
    );
    expect(load({ tenantEventsPerSecond: 100, maxEventsPerRequest: 100 }).tenantRates.eventsPerSecond).toBe(100);
    expect(() => load({ tenantRateOverrides: 'acme=10/100' })).toThrow(/tenantRateOverrides.*acme/);
  });

  it('turns the WAF web ACL on only when wafRateLimit is set, within the bounds WAF accepts', () => {
    expect(load().wafRateLimit).toBeUndefined();
    expect(load({ wafRateLimit: '2000' }).wafRateLimit).toBe(2000);
    expect(() => load({ wafRateLimit: '9' })).toThrow(/wafRateLimit/);
  });

  it('reads per-tenant retention overrides and rejects malformed ones', () => {
    expect(load({ tenantRetentionDays: 'acme=90, globex=730' }).tenantRetentionDays).toEqual({ acme: 90, globex: 730 });
    expect(() => load({ tenantRetentionDays: 'acme=0' })).toThrow(/tenantRetentionDays/);
    expect(() => load({ tenantRetentionDays: 'acme:90' })).toThrow(/tenantRetentionDays/);
  });
});
