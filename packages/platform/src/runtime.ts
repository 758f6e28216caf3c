import cluster from 'node:cluster';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import { clusterWorkerIndex, superviseWorkers } from './cluster.js';
import { type BaseConfig, natsServers } from './config.js';
import type { Orm } from './db/orm.js';
import { InfrastructureError } from './errors.js';
import type { ReadinessCheck } from './http/plugins/health.js';
import type { AppServer } from './http/server.js';
import { createLogger } from './logger.js';
import { connectNats } from './nats/connect.js';
import { ensureDeadLettersStream, ensureEventsStream } from './nats/streams.js';
import { sleep } from './retry.js';
import { gracefulShutdown } from './shutdown.js';

/** Building blocks every service's start-up shares, so each service wires only what is its own. */

export interface EventBusOptions {
  /**
   * Also brings the DEAD_LETTERS stream up: only for a service whose consumers dead-letter (inventory, transfer).
   * The gateway only reads, and its NATS user may not touch that stream.
   */
  deadLetters?: boolean;
}

export type EventBusConfig = Pick<
  BaseConfig,
  'NATS_URL' | 'NATS_USER' | 'NATS_PASSWORD' | 'STREAM_REPLICAS' | 'STREAM_MAX_AGE_HOURS'
>;

/**
 * Connects to NATS (reconnecting forever) and brings the EVENTS stream (and, when asked, DEAD_LETTERS) up to the
 * configured settings.
 */
export async function connectEventBus(
  config: EventBusConfig,
  name: string,
  logger: Logger,
  options: EventBusOptions = {},
): Promise<NatsConnection> {
  const nc = await connectNats({
    servers: natsServers(config),
    name,
    logger,
    user: config.NATS_USER,
    pass: config.NATS_PASSWORD,
  });
  try {
    await ensureEventBusStreams(nc, config, options);
  } catch (error) {
    await nc.close();
    throw error;
  }
  return nc;
}

async function ensureEventBusStreams(
  nc: NatsConnection,
  config: EventBusConfig,
  options: EventBusOptions,
): Promise<void> {
  const jsm = await jetstreamManager(nc);
  await ensureEventsStream(jsm, {
    replicas: config.STREAM_REPLICAS,
    maxAgeMs: config.STREAM_MAX_AGE_HOURS * 3_600_000,
  });
  if (options.deadLetters) await ensureDeadLettersStream(jsm, { replicas: config.STREAM_REPLICAS });
}

/**
 * Makes the event bus's streams again, as `connectEventBus` made them, when the server lost them (a single node's
 * JetStream storage lost or wiped): the outbox relay calls it when no stream takes its publishes, the inbox
 * consumer when its pull is interrupted. A running service then recovers without a restart. Calls made while one
 * runs share it.
 */
export function streamRestorer(
  nc: NatsConnection,
  config: EventBusConfig,
  options: EventBusOptions = {},
): () => Promise<void> {
  let running: Promise<void> | null = null;
  return () => {
    running ??= ensureEventBusStreams(nc, config, options).finally(() => {
      running = null;
    });
    return running;
  };
}

/** `/readyz` of a service that needs its database and NATS. */
export function databaseAndNatsReadiness(orm: Orm, nc: NatsConnection): Record<string, ReadinessCheck> {
  return {
    database: () => orm.em.fork().execute('select 1'),
    nats: async () => {
      if (nc.isClosed()) throw new Error('connection closed');
      await nc.flush();
    },
  };
}

/** Drains a NATS connection; draining needs the server, so when it is away, gives up after a while and closes. */
export async function closeNats(nc: NatsConnection, drainTimeoutMs = 5_000): Promise<void> {
  await Promise.race([nc.drain(), sleep(drainTimeoutMs)]).catch(() => undefined);
  if (!nc.isClosed()) await nc.close().catch(() => undefined);
}

/** The last shutdown steps, once the workers are stopped: drain NATS, then close the database. */
export async function closeConnections(nc: NatsConnection, orm: Orm, drainTimeoutMs = 5_000): Promise<void> {
  await closeNats(nc, drainTimeoutMs);
  await orm.close(true);
}

/** Listens on HOST:PORT; with PORT 0 the system picks the port, which is returned with the URL. */
export async function listenOn(
  app: AppServer,
  config: { HOST: string; PORT: number },
): Promise<{ url: string; port: number }> {
  await app.listen({ host: config.HOST, port: config.PORT });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.PORT;
  return { url: `http://${config.HOST}:${port}`, port };
}

export interface ServiceMainOptions<C> {
  /** How many processes serve (node:cluster); 1, the default, is this process alone. */
  workers?: (config: C) => number;
  /** Run once by the primary before it forks the workers (migrations, so workers do not race for them). */
  prepare?: (config: C, logger: Logger) => Promise<unknown>;
}

/**
 * The `main` of a service: loads its configuration, starts it and stops it gracefully on SIGTERM/SIGINT. A
 * start-up failure with a known cause (configuration, database or NATS unreachable) is one clear line. With
 * more than one worker, this process becomes the primary that forks and supervises them, and each worker runs
 * `start` (its log lines carry its `worker` index and `pid`).
 */
export function runServiceMain<C extends Pick<BaseConfig, 'LOG_LEVEL' | 'SHUTDOWN_TIMEOUT_MS'>>(
  name: string,
  loadConfig: () => C,
  start: (config: C, logger: Logger) => Promise<{ stop(): Promise<void> }>,
  options: ServiceMainOptions<C> = {},
): void {
  const main = async () => {
    const config = loadConfig();
    const logger = createLogger(name, config.LOG_LEVEL);
    const workers = options.workers?.(config) ?? 1;
    if (cluster.isPrimary && workers > 1) {
      await options.prepare?.(config, logger);
      superviseWorkers({ workers, logger, shutdownTimeoutMs: config.SHUTDOWN_TIMEOUT_MS });
      return;
    }
    const index = clusterWorkerIndex();
    const serviceLogger = index === null ? logger : logger.child({ worker: index, pid: process.pid });
    const service = await start(config, serviceLogger);
    gracefulShutdown(serviceLogger, config.SHUTDOWN_TIMEOUT_MS, [
      { name: `${name} service`, run: () => service.stop() },
    ]);
  };
  main().catch((error: unknown) => {
    console.error(error instanceof InfrastructureError ? `${name} failed to start: ${error.message}` : error);
    process.exit(1);
  });
}
