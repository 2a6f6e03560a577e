import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ServiceUnavailableError } from '../core/errors';
import { parseKeyring, type Keyring } from '../core/keyring';

/**
 * Reads the keys secret once per cold start (the promise is cached; a failed read is retried on
 * the next request rather than cached, and answers 503 meanwhile).
 */
export const secretKeyring = (client: SecretsManagerClient, secretId: string): (() => Promise<Keyring>) => {
  let loading: Promise<Keyring> | undefined;
  return () => {
    loading ??= client
      .send(new GetSecretValueCommand({ SecretId: secretId }))
      .then((out) => {
        if (!out.SecretString) throw new Error('keys secret has no SecretString');
        return parseKeyring(out.SecretString);
      })
      .catch((error: unknown) => {
        loading = undefined;
        throw new ServiceUnavailableError('keys_unavailable', 'the service is starting; retry shortly', { cause: error });
      });
    return loading;
  };
};
