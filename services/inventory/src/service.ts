import { DURABLE_CONSUMERS } from '@inv/contracts';
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
  OUTBOX_NOTIFY_CHANNEL,
  OutboxRelay,
  registerOutboxGauges,
  relayLockKey,
} from '@inv/platform';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import { BatchExpiryScanner } from './app/batch-scanner.js';
import { ReservationSweeper } from './app/reservation-sweeper.js';
import { TransferSagaHandler } from './app/transfer-saga.js';
import type { InventoryConfig } from './config.js';
import { INVENTORY_ENTITIES } from './infra/db/entities.js';
import { INVENTORY_MIGRATIONS } from './infra/db/Migration20261122100000_inventory.js';
import { createStockPool, outboxWakeup, poolClient, type SqlClient } from './infra/db/sql-client.js';
import { batchRoutes } from './infra/http/batch-routes.js';
import { reservationRoutes } from './infra/http/reservation-routes.js';
import { stockRoutes } from './infra/http/stock-routes.js';

export const inventoryMigrations = INVENTORY_MIGRATIONS;

function ormOptions(config: InventoryConfig, logger: Logger) {
  return {
    url: config.DATABASE_URL,
    entities: INVENTORY_ENTITIES,
    migrations: inventoryMigrations,
    logger,
    poolSize: config.DB_POOL_SIZE,
  };
}

/** Creates the database if needed and applies pending migrations (platform tables first); returns their names. */
export async function migrateInventoryDatabase(config: InventoryConfig, logger?: Logger): Promise<string[]> {
  return migrateDatabase(ormOptions(config, logger ?? createLogger('inventory-migrate', config.LOG_LEVEL)));
}

export interface InventoryService {
  url: string;
  port: number;
  app: AppServer;
  orm: Orm;
  /** The service's own pool for hand-written statements (applyMovements). */
  db: SqlClient;
  nc: NatsConnection;
  relay: OutboxRelay;
  consumer: InboxConsumer;
  scanner: BatchExpiryScanner;
  sweeper: ReservationSweeper;
  /** Stops taking requests, finishes in-flight work, stops the workers, drains NATS and closes the database. */
  stop(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  /** Applies migrations first (default): `infra` does it too, and applying none is cheap. */
  migrate?: boolean;
  /** The scanner's clock, for tests. */
  now?: () => Date;
}

/** Starts HTTP, the outbox relay, the transfer saga consumer and the batch expiry scanner. */
export async function startInventoryService(
  config: InventoryConfig,
  options: StartOptions = {},
): Promise<InventoryService> {
  const logger = options.logger ?? createLogger('inventory', config.LOG_LEVEL);
  if (options.migrate ?? true) await migrateInventoryDatabase(config, logger);
  const registry = createMetricsRegistry('inventory');
  const nc = await connectEventBus(config, 'inventory', logger);
  const orm = await createOrm(ormOptions(config, logger));
  const pool = createStockPool(config, logger);

  const relay = new OutboxRelay({
    databaseUrl: config.DATABASE_URL,
    nc,
    logger,
    registry,
    lockKey: relayLockKey('inventory'),
  });
  registerOutboxGauges(registry, orm);
  const notify = () => relay.notify();
  const wakeRelays = outboxWakeup(pool, OUTBOX_NOTIFY_CHANNEL, logger);
  const db = poolClient(pool, () => {
    notify();
    wakeRelays();
  });
  const consumer = new InboxConsumer({
    nc,
    orm,
    logger,
    registry,
    durable: DURABLE_CONSUMERS.inventoryTransfers,
    handle: new TransferSagaHandler(logger).handle,
    afterCommit: notify,
  });
  const scanner = new BatchExpiryScanner({
    orm,
    logger,
    thresholdsDays: config.BATCH_EXPIRY_THRESHOLDS_DAYS,
    intervalMs: config.BATCH_SCAN_INTERVAL_MS,
    afterCommit: notify,
    now: options.now,
  });
  const sweeper = new ReservationSweeper({
    orm,
    logger,
    intervalMs: config.RESERVATION_SWEEP_INTERVAL_MS,
    afterCommit: notify,
  });

  const app = await createHttpServer({
    logger,
    registry,
    verifyToken: createTokenVerifier(authSettingsFrom(config)),
    readiness: databaseAndNatsReadiness(orm, nc),
    docs: {
      title: 'Inventory service',
      description:
        'Stock per product, variant, unit and warehouse; movement ledger; batches; order reservations; transfer saga.',
    },
  });
  await app.register(stockRoutes, { orm, db, notify });
  await app.register(batchRoutes, { orm, db, notify });
  await app.register(reservationRoutes, { orm, db, notify });

  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= (async () => {
      await app.close();
      await scanner.stop();
      await sweeper.stop();
      await consumer.stop();
      await relay.stop();
      await closeConnections(nc, orm);
      await pool.end().catch(() => undefined);
    })();
    return stopping;
  };

  let listening: { url: string; port: number };
  try {
    relay.start();
    await consumer.start();
    scanner.start();
    sweeper.start();
    listening = await listenOn(app, config);
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
  const { url, port } = listening;
  logger.info({ port }, 'inventory service listening');
  return { url, port, app, orm, db, nc, relay, consumer, scanner, sweeper, stop };
}
