import { readFileSync } from 'node:fs';
import { EVENTS_STREAM } from '@inv/contracts';
import { Command, CommanderError } from 'commander';
import { registerConsumers } from './commands/consumers.js';
import { registerDeadLetters } from './commands/dead-letters.js';
import { registerEvents } from './commands/events.js';
import { registerRebuild } from './commands/rebuild.js';
import { registerReconcile } from './commands/reconcile.js';
import { registerReplay } from './commands/replay.js';
import { registerStreams } from './commands/streams.js';
import { registerWebhooks } from './commands/webhooks.js';
import { contextOf, type Runner } from './lib/context.js';
import { CliError, EXIT } from './lib/errors.js';
import type { Io } from './lib/io.js';
import { DEFAULT_NATS_URL } from './lib/nats.js';

const VERSION: string = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version;

export function buildProgram(io: Io, runner: Runner): Command {
  const program = new Command('invctl')
    .description(
      `Operators' tool for the inventory platform: inspect streams and consumers, read, replay and check events.\n` +
        `Most commands work on the ${EVENTS_STREAM} stream unless --stream says otherwise.`,
    )
    .version(VERSION, '-V, --version')
    .option('--nats <url>', 'NATS server URL(s), comma-separated', io.env.NATS_URL || DEFAULT_NATS_URL)
    .option('--json', 'print JSON (one object per line for event listings) instead of tables')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => void io.stdout.write(text),
      writeErr: (text) => void io.stderr.write(text),
    })
    .showHelpAfterError('(add --help for usage)')
    .addHelpText(
      'after',
      '\nExit codes: 0 ok, 1 differences found (rebuild), 2 usage or refused, 3 failure.',
    );
  registerStreams(program, runner);
  registerEvents(program, runner);
  registerReplay(program, runner);
  registerConsumers(program, runner);
  registerDeadLetters(program, runner);
  registerRebuild(program, runner, io.env);
  registerReconcile(program, runner, io.env);
  registerWebhooks(program, runner, io.env);
  return program;
}

/**
 * Runs the CLI on `argv` (without node and script) and returns the exit code. Tests call this with their own
 * `io`; `main` with the process's.
 */
export async function run(argv: string[], io: Io): Promise<number> {
  let exitCode: number = EXIT.ok;
  const runner: Runner = async (command, body) => {
    exitCode = await body(contextOf(io, command));
  };
  try {
    await buildProgram(io, runner).parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    }
    if (error instanceof CliError) {
      io.stderr.write(`invctl: ${error.message}\n`);
      return error.exitCode;
    }
    io.stderr.write(`invctl: ${(error as Error)?.message ?? String(error)}\n`);
    return EXIT.failure;
  }
}
