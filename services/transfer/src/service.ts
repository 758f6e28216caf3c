import { DURABLE_CONSUMERS, EVENTS_STREAM } from '@inv/contracts';
import {
  type AppServer,
  authSettingsFrom,
  closeConnections,
  connectEventBus,
  createHttpServer,
  createLogger,
  createMetricsRegistry,
  createOrm,
  createTokenVerifier,
  databaseAndNatsReadiness,
  InboxConsumer,
  listenOn,
  migrateDatabase,
  type Orm,
  OutboxRelay,
  RetentionWatch,
  registerOutboxGauges,
  relayLockKey,
  TablePurger,
} from '@inv/platform';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import { reservationAnswerHandler } from './app/reservation-answers.js';
import type { TransferConfig } from './config.js';
import { TRANSFER_ENTITIES } from './infra/db/entities.js';
import { TRANSFER_MIGRATIONS } from './infra/db/Migration20261122200000_transfer.js';
import { transferRoutes } from './infra/http/transfer-routes.js';

export const transferMigrations = TRANSFER_MIGRATIONS;

function ormOptions(config: TransferConfig, logger: Logger) {
  return {
    url: config.DATABASE_URL,
    entities: TRANSFER_ENTITIES,
    migrations: transferMigrations,
    logger,
    poolSize: config.DB_POOL_SIZE,
  };
}

/** Creates the database if needed and applies pending migrations (platform tables first); returns their names. */
export async function migrateTransferDatabase(config: TransferConfig, logger?: Logger): Promise<string[]> {
  return migrateDatabase(ormOptions(config, logger ?? createLogger('transfer-migrate', config.LOG_LEVEL)));
}

export interface TransferService {
  url: string;
  port: number;
  app: AppServer;
  orm: Orm;
  nc: NatsConnection;
  relay: OutboxRelay;
  consumer: InboxConsumer;
  /** Scheduled purges of expired idempotency keys and inbox rows. */
  purger: TablePurger;
  /** Stops taking requests, finishes in-flight work, stops the workers, drains NATS and closes the database. */
  stop(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  /** Applies migrations first (default): `infra` does it too, and applying none is cheap. */
  migrate?: boolean;
}

/** Starts HTTP, the outbox relay and the consumer of inventory's reservation answers. */
export async function startTransferService(
  config: TransferConfig,
  options: StartOptions = {},
): Promise<TransferService> {
  const logger = options.logger ?? createLogger('transfer', config.LOG_LEVEL);
  if (options.migrate ?? true) await migrateTransferDatabase(config, logger);
  const registry = createMetricsRegistry('transfer');
  const nc = await connectEventBus(config, 'transfer', logger, { deadLetters: true });
  const orm = await createOrm(ormOptions(config, logger));

  const relay = new OutboxRelay({
    databaseUrl: config.DATABASE_URL,
    nc,
    logger,
    registry,
    lockKey: relayLockKey('transfer'),
  });
  registerOutboxGauges(registry, orm);
  const notify = () => relay.notify();
  const consumer = new InboxConsumer({
    nc,
    orm,
    logger,
    registry,
    service: 'transfer',
    durable: DURABLE_CONSUMERS.transferReservations,
    handle: reservationAnswerHandler(logger),
    afterCommit: notify,
    retry: { baseMs: config.INBOX_RETRY_BASE_MS, maxMs: config.INBOX_RETRY_MAX_MS },
  });

  const purger = new TablePurger({
    orm,
    databaseUrl: config.DATABASE_URL,
    nc,
    logger,
    registry,
    service: 'transfer',
    intervalMs: config.PURGE_INTERVAL_SECONDS * 1000,
    idempotencyRetentionHours: config.IDEMPOTENCY_KEY_RETENTION_HOURS,
  });

  const retention = new RetentionWatch({
    jsm: () => jetstreamManager(nc),
    logger,
    registry,
    stream: EVENTS_STREAM,
    consumers: [DURABLE_CONSUMERS.transferReservations.name],
    intervalMs: config.RETENTION_WATCH_INTERVAL_SECONDS * 1000,
  });

  const app = await createHttpServer({
    logger,
    registry,
    slowRequestMs: config.SLOW_REQUEST_MS,
    verifyToken: createTokenVerifier(authSettingsFrom(config)),
    readiness: { ...databaseAndNatsReadiness(orm, nc), ...consumer.readiness() },
    docs: {
      title: 'Transfer service',
      description: 'Transfers between warehouses: the workflow state machine and the saga with inventory.',
    },
  });
  await app.register(transferRoutes, {
    orm,
    notify,
    policy: { separateApprover: config.TRANSFER_SEPARATE_APPROVER },
  });

  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= (async () => {
      await app.close();
      await retention.stop();
      await purger.stop();
      await consumer.stop();
      await relay.stop();
      await closeConnections(nc, orm);
    })();
    return stopping;
  };

  let listening: { url: string; port: number };
  try {
    relay.start();
    await consumer.start();
    purger.start();
    retention.start();
    listening = await listenOn(app, config);
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
  const { url, port } = listening;
  logger.info({ port }, 'transfer service listening');
  return { url, port, app, orm, nc, relay, consumer, purger, stop };
}
