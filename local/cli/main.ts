/**
 * The local commands: `start`, `token` and `redrive`. An app runs them with its own config
 * (`runLocalCli(process.argv.slice(2), config)`); `tsx local/cli/main.ts <command>` runs them
 * without one.
 */
import { runRedrive } from './redrive';
import { runStart, type LocalAppConfig } from './start';
import { runToken } from './token';

const COMMANDS = ['start', 'token', 'redrive'] as const;

/** Runs `argv[0]` (start, token or redrive) with the rest of argv; exits the process on failure. */
export const runLocalCli = async (argv: readonly string[], config: LocalAppConfig = {}): Promise<void> => {
  const [command, ...args] = argv;
  const fail = (prefix: string) => (e: unknown) => {
    process.stderr.write(`${prefix} ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  };
  switch (command) {
    case 'start':
      return runStart(args, config).catch(fail('[local]'));
    case 'token':
      return runToken(args, config);
    case 'redrive':
      return runRedrive(args).catch(fail('redrive:'));
    default:
      process.stderr.write(`usage: <${COMMANDS.join('|')}> [options]\n`);
      process.exit(2);
  }
};

if (require.main === module) void runLocalCli(process.argv.slice(2));
