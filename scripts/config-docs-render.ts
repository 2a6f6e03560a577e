import { CONFIG_KEYS, type ConfigKeySpec } from '../lib/config-keys';
import { markdownBlock, replaceBlock } from './markdown-block';

export const CONFIG_BLOCK = 'config';

const code = (v: string | number) => `\`${v}\``;
const cell = (s: string) => s.replace(/\|/g, '\\|');

const defaultOf = (spec: ConfigKeySpec): string => {
  if (spec.required) return 'required';
  if (spec.default !== undefined) return code(spec.default);
  return spec.defaultText ?? '—';
};

const allowedOf = (spec: ConfigKeySpec): string => {
  const parts: string[] = [];
  if (spec.values) parts.push(spec.values.map(code).join(', '));
  if (spec.allowed) parts.push(spec.allowed);
  if (spec.min !== undefined && spec.max !== undefined) {
    parts.push(spec.kind === 'list' ? `each ${spec.min}..${spec.max}` : `${spec.min}..${spec.max}`);
  }
  if (spec.kind === 'number') parts.push('decimals allowed');
  return parts.join('; ') || 'any';
};

/** docs/configuration.md's reference table, markers included, from CONFIG_KEYS. */
export const renderConfigTable = (): string => {
  const rows = Object.entries(CONFIG_KEYS).map(([key, spec]) => {
    const only = spec.authMode ? `${code(spec.authMode)} only: ` : '';
    return `| ${code(key)} | ${cell(defaultOf(spec))} | ${cell(allowedOf(spec))} | ${cell(only + spec.meaning)} |`;
  });
  const table = ['| key | default | allowed | meaning |', '| --- | --- | --- | --- |', ...rows].join('\n');
  return markdownBlock(CONFIG_BLOCK, 'scripts/config-docs.ts (`npm run docs`) from lib/config-keys.ts', table);
};

/** The page with its generated block brought up to date. */
export const renderConfigDocs = (page: string): string => replaceBlock(page, CONFIG_BLOCK, renderConfigTable());
