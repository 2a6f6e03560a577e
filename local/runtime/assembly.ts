/** Reads a cloud assembly: the stack template (via manifest.json) and the bundled assets its functions run. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { invokedFunctions } from '../template/read';
import type { TemplateModel } from '../template/model';

/** Reads the stack template a cloud assembly holds (via manifest.json). */
export const readAssembly = (outDir: string, stackName?: string): { stackName: string; template: unknown; region?: string } => {
  const manifestFile = join(outDir, 'manifest.json');
  if (!existsSync(manifestFile)) throw new Error(`No cloud assembly at ${outDir} (missing manifest.json): run cdk synth first`);
  const manifest = JSON.parse(readFileSync(manifestFile, 'utf8')) as {
    artifacts?: Record<string, { type?: string; environment?: string; properties?: { templateFile?: string }; displayName?: string }>;
  };
  const stacks = Object.entries(manifest.artifacts ?? {}).filter(([, a]) => a.type === 'aws:cloudformation:stack');
  if (stacks.length === 0) throw new Error(`${manifestFile} holds no CloudFormation stack`);
  let chosen = stacks[0]!;
  if (stackName) {
    const found = stacks.find(([id, a]) => id === stackName || a.displayName === stackName);
    if (!found) throw new Error(`Stack ${stackName} not in the assembly (found: ${stacks.map(([id]) => id).join(', ')})`);
    chosen = found;
  } else if (stacks.length > 1) {
    throw new Error(`The assembly holds several stacks (${stacks.map(([id]) => id).join(', ')}): pass stackName`);
  }
  const [id, artifact] = chosen;
  const templateFile = artifact.properties?.templateFile ?? `${id}.template.json`;
  // aws://account/region; the region is concrete when the stack (or the CLI's default) set it.
  const region = /^aws:\/\/[^/]+\/([a-z0-9-]+)$/.exec(artifact.environment ?? '')?.[1];
  return {
    stackName: id,
    template: JSON.parse(readFileSync(join(outDir, templateFile), 'utf8')) as unknown,
    ...(region && region !== 'unknown-region' ? { region } : {}),
  };
};

/**
 * The functions something invokes (a route, an event source, a schedule) and their bundled asset
 * folders; every asset must be there before anything starts.
 */
export const invokedFunctionAssets = (model: TemplateModel, assemblyDir: string, log: (line: string) => void) => {
  // Functions nothing invokes (CDK custom-resource providers, say) only run at deploy time.
  const functions = invokedFunctions(model);
  for (const fn of model.functions) {
    if (!functions.includes(fn)) log(`note: function ${fn.logicalId} has no route, event source or schedule; not run locally`);
  }
  const assets = new Map<string, string>();
  for (const fn of functions) {
    if (!fn.runtime.startsWith('nodejs'))
      throw new Error(`Function ${fn.logicalId}: runtime ${fn.runtime} cannot run locally (Node.js only)`);
    if (!fn.assetPath) throw new Error(`Function ${fn.logicalId}: no aws:asset:path metadata (synth with asset metadata on)`);
    const dir = join(assemblyDir, fn.assetPath);
    if (!existsSync(dir)) throw new Error(`Function ${fn.logicalId}: asset folder ${dir} missing: run cdk synth`);
    assets.set(fn.logicalId, dir);
  }
  return { functions, assets };
};
