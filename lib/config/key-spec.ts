/** One deploy-time configuration key: see lib/config-keys.ts, which lists them all. */
export interface ConfigKeySpec {
  /** Value used when the key is not set; absent: the setting is off or derived (see `defaultText`). */
  readonly default?: string | number;
  /** Shown as the default in the docs when it is computed at deploy time. */
  readonly defaultText?: string;
  readonly kind: 'string' | 'integer' | 'number' | 'list';
  /** Inclusive bounds of a number (of each entry's number for a list). */
  readonly min?: number;
  readonly max?: number;
  /** The only accepted values. */
  readonly values?: readonly string[];
  /** Accepted values in words, where bounds or a list of values do not say it. */
  readonly allowed?: string;
  /** Used only in this auth mode (set in the other, it is rejected). */
  readonly authMode?: 'cognito' | 'oidc';
  /** Required (in `authMode`): there is no default. */
  readonly required?: boolean;
  /** What it does; Markdown, one line. */
  readonly meaning: string;
}
