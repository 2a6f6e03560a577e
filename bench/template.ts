/** The synthesized CloudFormation template the benchmarks read their models from. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface Template {
  // biome-ignore lint/suspicious/noExplicitAny: CloudFormation properties are free-form JSON
  readonly Resources: Record<string, { readonly Type: string; readonly Properties?: any }>;
}

/** The stack's template file named by the cloud assembly's manifest in `outDir`. */
const templateFileOf = (outDir: string): string => {
  const manifest = JSON.parse(readFileSync(join(outDir, 'manifest.json'), 'utf8')) as {
    artifacts: Record<string, { type: string; properties?: { templateFile?: string } }>;
  };
  const stack = Object.values(manifest.artifacts).find((a) => a.type === 'aws:cloudformation:stack');
  if (!stack?.properties?.templateFile) throw new Error(`no stack in ${outDir}`);
  return stack.properties.templateFile;
};

export const templateOf = (outDir: string): Template => JSON.parse(readFileSync(join(outDir, templateFileOf(outDir)), 'utf8')) as Template;
