import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';

/** The environment variable carrying a worker's index (0 … N-1) from the primary to the worker it forks. */
const WORKER_INDEX_VARIABLE = 'SERVICE_WORKER_INDEX';

/** This process's index among the service's workers, or null when the service runs as one process. */
export function clusterWorkerIndex(): number | null {
  if (!cluster.isWorker) return null;
  const index = Number(process.env[WORKER_INDEX_VARIABLE]);
  return Number.isInteger(index) ? index : null;
}

export interface WorkerSupervisorOptions {
  workers: number;
  logger: Logger;
  /** How long the workers get to stop gracefully after SIGTERM/SIGINT before they are killed. */
  shutdownTimeoutMs: number;
  /** A worker that crashes after it served is replaced after this long. */
  restartDelayMs?: number;
}

/**
 * The primary of a service run as N processes (`node:cluster`): forks the workers, which share the listening
 * port (the primary hands connections out in turn); replaces a worker that crashes once it was listening, but
 * gives up (exit 1) if one fails before ever listening, since its start-up error would only repeat; on
 * SIGTERM/SIGINT passes the signal on and exits once every worker has stopped (killing stragglers after the
 * shutdown timeout).
 */
export function superviseWorkers(options: WorkerSupervisorOptions): void {
  const { logger } = options;
  const indexOf = new Map<Worker, number>();
  const listened = new Set<number>();
  let stopping = false;

  const fork = (index: number) => {
    const worker = cluster.fork({ [WORKER_INDEX_VARIABLE]: String(index) });
    indexOf.set(worker, index);
  };
  const stopAll = (exitCode: number, signal: NodeJS.Signals = 'SIGTERM') => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping workers');
    for (const worker of indexOf.keys()) worker.process.kill(signal);
    const killer = setTimeout(() => {
      logger.warn('workers did not stop in time; killing them');
      for (const worker of indexOf.keys()) worker.process.kill('SIGKILL');
    }, options.shutdownTimeoutMs + 2_000);
    killer.unref();
    const finish = () => {
      if (indexOf.size > 0) return;
      logger.info('all workers stopped');
      process.exit(exitCode);
    };
    cluster.on('exit', finish);
    finish();
  };

  cluster.on('listening', (worker) => {
    const index = indexOf.get(worker);
    if (index === undefined) return;
    listened.add(index);
    logger.info({ worker: index, pid: worker.process.pid }, 'worker listening');
  });
  cluster.on('exit', (worker, code, signal) => {
    const index = indexOf.get(worker);
    indexOf.delete(worker);
    if (stopping || index === undefined) return;
    if (!listened.has(index)) {
      logger.error({ worker: index, code, signal }, 'worker failed to start; stopping');
      stopAll(1);
      return;
    }
    logger.error({ worker: index, code, signal }, 'worker exited; starting another');
    setTimeout(() => !stopping && fork(index), options.restartDelayMs ?? 1_000).unref();
  });
  process.once('SIGTERM', () => stopAll(0, 'SIGTERM'));
  process.once('SIGINT', () => stopAll(0, 'SIGTERM'));
  for (let index = 0; index < options.workers; index++) fork(index);
  logger.info({ workers: options.workers }, 'started workers');
}
