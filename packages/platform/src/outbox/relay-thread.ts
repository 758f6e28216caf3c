import { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { EventBusConfig } from '../runtime.js';
import type { Relay } from './relay.js';
import { applyRelayReport, promRelayMetrics, type RelayMetrics, type RelayReport } from './relay-metrics.js';

/** The settings the thread needs to reach NATS and make the streams again, out of a service's config. */
export function eventBusSettings(config: EventBusConfig): EventBusConfig {
  const { NATS_URL, NATS_USER, NATS_PASSWORD, STREAM_REPLICAS, STREAM_MAX_AGE_HOURS } = config;
  return { NATS_URL, NATS_USER, NATS_PASSWORD, STREAM_REPLICAS, STREAM_MAX_AGE_HOURS };
}

/** What the thread is started with (structured-cloned: plain data only). */
export interface RelayThreadData {
  service: string;
  logLevel: string;
  databaseUrl: string;
  lockKey: number;
  eventBus: { config: EventBusConfig; deadLetters: boolean };
}

export type ToRelayThread = 'notify' | 'stop';

type FromRelayThread =
  | { type: 'report'; report: RelayReport }
  | { type: 'leader'; leader: boolean }
  | { type: 'failed'; message: string };

type ThreadState = 'idle' | 'running' | 'restarting' | 'stopping' | 'stopped';

const RESTART_AFTER_MS = 1_000;
const COMPILED_WORKER = new URL('./relay-worker.js', import.meta.url);

/**
 * The outbox relay (OutboxRelay) on a worker thread with its own NATS connection: `start`, `notify` and `stop`
 * as the relay's. Under load the service's event loop is busy with requests, and a relay sharing it waited there
 * for its reads and acks (p99 30–50 ms each beside 1,000 adjusts/s while a lone ack took 10 ms). A thread that
 * ends unexpectedly is started again after a second: rows it had read are still unpublished in the outbox.
 */
export class RelayThread implements Relay {
  private worker: Worker | null = null;
  private state: ThreadState = 'idle';
  private leader = false;
  private stopped: Promise<void> | null = null;
  private readonly metrics?: RelayMetrics;

  private readonly stopTimeoutMs: number;
  private readonly workerUrl: URL;

  constructor(
    private readonly data: RelayThreadData,
    private readonly logger: Logger,
    options: { registry?: Registry; stopTimeoutMs?: number; workerUrl?: URL } = {},
  ) {
    this.metrics = options.registry ? promRelayMetrics(options.registry) : undefined;
    this.stopTimeoutMs = options.stopTimeoutMs ?? 10_000;
    this.workerUrl = options.workerUrl ?? COMPILED_WORKER;
  }

  /**
   * Whether this module runs compiled, with its worker beside it. Run from its TypeScript sources (the tests),
   * there is no worker to start: services then relay in their own process.
   */
  static available(): boolean {
    return import.meta.url.endsWith('.js');
  }

  get isLeader(): boolean {
    return this.leader;
  }

  start(): void {
    if (this.state !== 'idle' && this.state !== 'restarting') return;
    this.state = 'running';
    const worker = new Worker(this.workerUrl, { workerData: this.data });
    this.worker = worker;
    worker.on('message', (message: FromRelayThread) => this.onMessage(message));
    worker.on('error', (error) => this.logger.error({ err: error }, 'outbox relay thread failed'));
    worker.on('exit', (code) => this.onExit(worker, code));
  }

  notify(): void {
    this.worker?.postMessage('notify' satisfies ToRelayThread);
  }

  stop(): Promise<void> {
    this.stopped ??= this.stopThread();
    return this.stopped;
  }

  private async stopThread(): Promise<void> {
    const worker = this.worker;
    const wasRunning = this.state === 'running';
    this.state = 'stopping';
    if (!worker || !wasRunning) {
      this.state = 'stopped';
      return;
    }
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.postMessage('stop' satisfies ToRelayThread);
    // The relay settles what it has in flight first; a thread that does not end is ended (its rows stay unmarked
    // and are published again, dropped by the stream as duplicates).
    const timer = setTimeout(() => void worker.terminate(), this.stopTimeoutMs);
    await exited;
    clearTimeout(timer);
    this.state = 'stopped';
  }

  private onMessage(message: FromRelayThread): void {
    switch (message.type) {
      case 'report':
        if (this.metrics) applyRelayReport(this.metrics, message.report);
        return;
      case 'leader':
        this.leader = message.leader;
        return;
      case 'failed':
        this.logger.error({ reason: message.message }, 'outbox relay thread could not start');
        return;
    }
  }

  private onExit(worker: Worker, code: number): void {
    if (worker !== this.worker) return;
    this.worker = null;
    this.leader = false;
    if (this.state !== 'running') return;
    this.state = 'restarting';
    this.logger.error({ code }, 'outbox relay thread ended; starting it again');
    setTimeout(() => this.start(), RESTART_AFTER_MS).unref();
  }
}
