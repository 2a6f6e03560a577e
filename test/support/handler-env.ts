/**
 * The handler modules wire their real adapters at import, so handler tests give them a complete
 * configuration first (and pass fakes to the exported factories). Call before requiring a handler.
 */
export const HANDLER_TEST_ENV: Readonly<Record<string, string>> = {
  AWS_REGION: 'us-east-1',
  QUEUE_URL: 'http://127.0.0.1:1/queue',
  TABLE_NAME: 'events',
  KEYS_SECRET_ARN: 'arn:aws:secretsmanager:us-east-1:000000000000:secret:keys',
  AUTH_ISSUER: 'https://issuer.test',
  AUTH_AUDIENCE: 'aud',
  AUTH_JWKS_URI: 'https://issuer.test/jwks.json',
  SHARD_COUNT: '2',
  RETENTION_DAYS: '30',
  DELETE_GRACE_DAYS: '30',
};

export const configureHandlerEnv = (overrides: Record<string, string | undefined> = {}): void => {
  Object.assign(process.env, HANDLER_TEST_ENV);
  for (const [name, value] of Object.entries(overrides)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
};
