import { createInterface } from 'node:readline/promises';
import { UsageError } from './errors.js';

export interface TextSink {
  write(text: string): unknown;
  isTTY?: boolean;
}

/** Where a command reads and writes: the process's streams in `main`, buffers in tests. */
export interface Io {
  stdout: TextSink;
  stderr: TextSink;
  stdin?: NodeJS.ReadableStream & { isTTY?: boolean };
  env: Record<string, string | undefined>;
  /** Ends long-running commands (`events --follow`): Ctrl-C in `main`, the test's controller in tests. */
  signal?: AbortSignal;
}

export function processIo(signal?: AbortSignal): Io {
  return { stdout: process.stdout, stderr: process.stderr, stdin: process.stdin, env: process.env, signal };
}

export function isInteractive(io: Io): boolean {
  return io.stdin?.isTTY === true && io.stderr.isTTY === true;
}

/**
 * Asks before a destructive action. `--yes` answers for the operator; without a terminal to ask on, the action is
 * refused so that a script never destroys something by default.
 */
export async function confirm(io: Io, question: string, yes: boolean | undefined): Promise<void> {
  if (yes) return;
  if (!isInteractive(io) || !io.stdin) {
    throw new UsageError(`${question} Refused: not a terminal; pass --yes to confirm.`);
  }
  // The question goes to stderr through the io (a sink, not necessarily a stream); the terminal echoes the answer.
  io.stderr.write(`${question} [y/N] `);
  const rl = createInterface({ input: io.stdin });
  try {
    const answer = await rl.question('');
    if (!/^y(es)?$/i.test(answer.trim())) throw new UsageError('Cancelled.');
  } finally {
    rl.close();
  }
}
