/**
 * How an access token is recognised: `typ` — the header's `typ` is `at+jwt` (RFC 9068, the
 * default for OIDC issuers that follow it); `claim:NAME=VALUE` — a claim has that value (Cognito:
 * `claim:token_use=access`; others: e.g. `claim:token_type=access_token`).
 */
export type AccessTokenRule = { readonly kind: 'typ' } | { readonly kind: 'claim'; readonly claim: string; readonly value: string };

/** Parses the configured rule; undefined when it is neither `typ` nor `claim:NAME=VALUE`. */
export const parseAccessTokenRule = (text: string): AccessTokenRule | undefined => {
  if (text === 'typ') return { kind: 'typ' };
  const match = /^claim:([A-Za-z0-9_:.-]{1,64})=([^\s=]{1,128})$/.exec(text);
  return match ? { kind: 'claim', claim: match[1] as string, value: match[2] as string } : undefined;
};
