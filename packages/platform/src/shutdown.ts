import type { Logger } from 'pino';

export interface ShutdownStep {
  name: string;
  run: () => Promise<unknown>;
}

/**
 * Runs shutdown steps in order on SIGTERM/SIGINT (or when called), each bounded by the overall timeout, then
 * exits. Order matters: stop taking work, finish in-flight work, drain NATS, close the database.
 */
export function gracefulShutdown(logger: Logger, timeoutMs: number, steps: ShutdownStep[]) {
  let running: Promise<void> | null = null;
  const shutdown = (reason: string) => {
    running ??= (async () => {
      logger.info({ reason }, 'shutting down');
      const deadline = Date.now() + timeoutMs;
      for (const step of steps) {
        const left = Math.max(1, deadline - Date.now());
        try {
          await Promise.race([
            step.run(),
            new Promise((_, reject) => setTimeout(() => reject(new Error('timed out')), left).unref()),
          ]);
        } catch (error) {
          logger.warn({ err: error, step: step.name }, 'shutdown step failed');
        }
      }
      logger.info('stopped');
    })();
    return running;
  };
  const onSignal = (signal: NodeJS.Signals) => {
    void shutdown(signal).then(() => process.exit(0));
  };
  process.once('SIGTERM', onSignal);
  process.once('SIGINT', onSignal);
  return shutdown;
}
