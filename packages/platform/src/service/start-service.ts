import { EVENTS_STREAM } from '@inv/contracts';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { authSettingsFrom, createTokenVerifier } from '../auth.js';
import type { BaseConfig } from '../config.js';
import { createOrm, migrateDatabase, type Orm, type OrmOptions } from '../db/orm.js';
import { type AppServer, createHttpServer, type HttpServerOptions } from '../http/server.js';
import { InboxConsumer, type InboxConsumerOptions } from '../inbox/consumer.js';
import { createLogger } from '../logger.js';
import { TablePurger } from '../maintenance/table-purger.js';
import { createMetricsRegistry } from '../metrics.js';
import { RetentionWatch } from '../nats/retention.js';
import type { DurableOptions } from '../nats/streams.js';
import { registerOutboxGauges } from '../outbox/metrics.js';
import { OutboxRelay, type Relay, relayLockKey } from '../outbox/relay.js';
import { eventBusSettings, RelayThread } from '../outbox/relay-thread.js';
import {
  closeConnections,
  connectEventBus,
  databaseAndNatsReadiness,
  listenOn,
  streamRestorer,
} from '../runtime.js';
import type { Worker } from './periodic-job.js';

/** The settings the template reads; each service's configuration extends these. */
export type ServiceConfig = BaseConfig & { PORT: number; DATABASE_URL: string; DB_POOL_SIZE: number };

/** What every service started by the template has, besides what its own parts expose. */
export interface SharedParts<C extends ServiceConfig> {
  config: C;
  logger: Logger;
  registry: Registry;
  nc: NatsConnection;
  orm: Orm;
  relay: Relay;
  /** The inbox consumer of the service's durable (the other service's events, applied once each). */
  consumer: InboxConsumer;
  /** Wakes the relay after a commit (or, through the database, the instance whose relay leads). */
  notify: () => void;
}

/** What a service adds to the shared parts: its routes and workers, and what it shows of itself. */
export interface ServiceParts<X> {
  /** Registers the service's routes on the HTTP server, which already has errors, auth, health, metrics, docs. */
  routes: (app: AppServer) => Promise<void>;
  /** The service's own periodic jobs, started after the platform's (purges, retention watch) when jobs run. */
  workers?: Worker[];
  /** Closes what the parts opened, after NATS and the database are closed. */
  close?: () => Promise<void>;
  /** Added to the running service (its workers, its own pools), for tests and tools. */
  exposed: X;
}

/** One service, declared: the template starts, serves and stops it the same way as every other. */
export interface ServiceDefinition<C extends ServiceConfig, X> {
  /** Names the logger, the metrics, the NATS connection, the relay's and the purger's locks, dead letters. */
  name: string;
  entities: OrmOptions['entities'];
  /** The service's own migrations (its `migrations/index.ts`); the platform's run first. */
  migrations: OrmOptions['migrations'];
  docs: HttpServerOptions['docs'];
  /** Settings of every session of the ORM's pool (PostgreSQL GUCs, e.g. `max_parallel_workers_per_gather`). */
  sessionSettings?: OrmOptions['sessionSettings'];
  /** The durable consumer through which the service applies another service's events. */
  inbox: { durable: DurableOptions; handler: (logger: Logger) => InboxConsumerOptions['handle'] };
  /** Builds the service's own parts once the shared ones exist. */
  parts: (shared: SharedParts<C>) => ServiceParts<X> | Promise<ServiceParts<X>>;
}

export interface StartServiceOptions {
  logger?: Logger;
  /** Applies migrations first (default): `infra` does it too, and applying none is cheap. */
  migrate?: boolean;
  /**
   * Runs the periodic jobs (default). Of several workers of a cluster only one does: each job is also safe in
   * several instances, only the work would be wasted.
   */
  periodicJobs?: boolean;
}

export interface RunningService {
  url: string;
  port: number;
  app: AppServer;
  orm: Orm;
  nc: NatsConnection;
  relay: Relay;
  consumer: InboxConsumer;
  /** Scheduled purges of expired idempotency keys and inbox rows. */
  purger: TablePurger;
  /** Stops taking requests, finishes in-flight work, stops the workers, drains NATS and closes the database. */
  stop(): Promise<void>;
}

function ormOptions<C extends ServiceConfig>(
  service: ServiceDefinition<C, unknown>,
  config: C,
  logger: Logger,
): OrmOptions {
  return {
    url: config.DATABASE_URL,
    entities: service.entities,
    migrations: service.migrations,
    logger,
    poolSize: config.DB_POOL_SIZE,
    sessionSettings: service.sessionSettings,
  };
}

/** Creates the database if needed and applies pending migrations (platform tables first); returns their names. */
export function migrateServiceDatabase<C extends ServiceConfig>(
  service: ServiceDefinition<C, unknown>,
  config: C,
  logger?: Logger,
): Promise<string[]> {
  const log = logger ?? createLogger(`${service.name}-migrate`, config.LOG_LEVEL);
  return migrateDatabase(ormOptions(service, config, log));
}

/**
 * Starts a service: migrations, NATS (EVENTS and DEAD_LETTERS streams), the ORM, the outbox relay, the inbox
 * consumer, the HTTP server with the service's routes, and the periodic jobs (table purges, the retention watch,
 * then the service's own). `stop` undoes it in reverse: requests first, then the jobs, the consumer, the relay,
 * NATS and the database.
 */
export async function startService<C extends ServiceConfig, X>(
  service: ServiceDefinition<C, X>,
  config: C,
  options: StartServiceOptions = {},
): Promise<RunningService & X> {
  const { name } = service;
  const logger = options.logger ?? createLogger(name, config.LOG_LEVEL);
  if (options.migrate ?? true) await migrateServiceDatabase(service, config, logger);
  const registry = createMetricsRegistry(name);
  const nc = await connectEventBus(config, name, logger, { deadLetters: true });
  const restoreStreams = streamRestorer(nc, config, { deadLetters: true });
  const orm = await createOrm(ormOptions(service, config, logger));

  const relay: Relay =
    config.OUTBOX_RELAY_THREAD && RelayThread.available()
      ? new RelayThread(
          {
            service: name,
            logLevel: config.LOG_LEVEL,
            databaseUrl: config.DATABASE_URL,
            lockKey: relayLockKey(name),
            eventBus: { config: eventBusSettings(config), deadLetters: true },
          },
          logger,
          { registry, stopTimeoutMs: config.SHUTDOWN_TIMEOUT_MS },
        )
      : new OutboxRelay({
          databaseUrl: config.DATABASE_URL,
          nc,
          logger,
          registry,
          lockKey: relayLockKey(name),
          restoreStreams,
        });
  registerOutboxGauges(registry, orm);
  // The relay wakes itself when it leads, or passes one coalesced NOTIFY to the instance that does.
  const notify = () => relay.notify();
  const consumer = new InboxConsumer({
    nc,
    orm,
    logger,
    registry,
    service: name,
    durable: service.inbox.durable,
    handle: service.inbox.handler(logger),
    afterCommit: notify,
    retry: { baseMs: config.INBOX_RETRY_BASE_MS, maxMs: config.INBOX_RETRY_MAX_MS },
    restoreStreams,
  });
  const purger = new TablePurger({
    orm,
    databaseUrl: config.DATABASE_URL,
    nc,
    logger,
    registry,
    service: name,
    intervalMs: config.PURGE_INTERVAL_SECONDS * 1000,
    idempotencyRetentionHours: config.IDEMPOTENCY_KEY_RETENTION_HOURS,
  });
  const retention = new RetentionWatch({
    jsm: () => jetstreamManager(nc),
    logger,
    registry,
    stream: EVENTS_STREAM,
    consumers: [service.inbox.durable.name],
    intervalMs: config.RETENTION_WATCH_INTERVAL_SECONDS * 1000,
  });
  const parts = await service.parts({ config, logger, registry, nc, orm, relay, consumer, notify });
  const workers: Worker[] = [purger, retention, ...(parts.workers ?? [])];

  const app = await createHttpServer({
    logger,
    registry,
    slowRequestMs: config.SLOW_REQUEST_MS,
    verifyToken: createTokenVerifier(authSettingsFrom(config)),
    readiness: { ...databaseAndNatsReadiness(orm, nc), ...consumer.readiness() },
    docs: service.docs,
  });
  await parts.routes(app);

  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= (async () => {
      await app.close();
      for (const worker of [...workers].reverse()) await worker.stop();
      await consumer.stop();
      await relay.stop();
      await closeConnections(nc, orm);
      await parts.close?.();
    })();
    return stopping;
  };

  let listening: { url: string; port: number };
  try {
    relay.start();
    await consumer.start();
    if (options.periodicJobs ?? true) for (const worker of workers) worker.start();
    listening = await listenOn(app, config);
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
  const { url, port } = listening;
  logger.info({ port }, `${name} service listening`);
  return { ...parts.exposed, url, port, app, orm, nc, relay, consumer, purger, stop };
}
