import { run } from './cli.js';
import { processIo } from './lib/io.js';

// Ctrl-C ends a live tail cleanly (consumers deleted, connection closed); a second one kills the process.
const controller = new AbortController();
process.once('SIGINT', () => {
  controller.abort();
  process.once('SIGINT', () => process.exit(130));
});

// `invctl events | head` closes the pipe early: that ends the command, it is not an error.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code === 'EPIPE') process.exit(0);
  throw error;
});

process.exitCode = await run(process.argv.slice(2), processIo(controller.signal));
