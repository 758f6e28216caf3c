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
  OutboxRelay,
  registerOutboxGauges,
  relayLockKey,
} from '@inv/platform';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import { BatchExpiryScanner } from './app/batch-scanner.js';
import { TransferSagaHandler } from './app/transfer-saga.js';
import type { InventoryConfig } from './config.js';
import { INVENTORY_ENTITIES } from './infra/db/entities.js';
import { INVENTORY_MIGRATIONS } from './infra/db/Migration20261122100000_inventory.js';
import { batchRoutes } from './infra/http/batch-routes.js';
import { catalogRoutes } from './infra/http/catalog-routes.js';
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
  nc: NatsConnection;
  relay: OutboxRelay;
  consumer: InboxConsumer;
  scanner: BatchExpiryScanner;
  /** Stops taking requests, finishes in-flight work, stops the workers, drains NATS and closes the database. */
  stop(): Promise<void>;
}

export interface StartOptions {
  logger?: Logger;
  /** Applies migrations first (default): `infra` does it too, and applying none is cheap. */
  migrate?: boolean;
  /** The scanner's clock, for tests. */
  now?: () => Date;
  /**
   * Runs the periodic batch expiry scan (default). Of several workers only one does; it would be correct in
   * each (notices are claimed once), only wasted work.
   */
  periodicJobs?: boolean;
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

  const relay = new OutboxRelay({
    databaseUrl: config.DATABASE_URL,
    nc,
    logger,
    registry,
    lockKey: relayLockKey('inventory'),
  });
  registerOutboxGauges(registry, orm);
  const notify = () => relay.notify();
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

  const app = await createHttpServer({
    logger,
    registry,
    slowRequestMs: config.SLOW_REQUEST_MS,
    verifyToken: createTokenVerifier(authSettingsFrom(config)),
    readiness: databaseAndNatsReadiness(orm, nc),
    docs: {
      title: 'Inventory service',
      description: 'Stock per product, variant, unit and warehouse; movement ledger; batches; transfer saga.',
    },
  });
  await app.register(stockRoutes, { orm, notify });
  await app.register(batchRoutes, { orm, notify });
  await app.register(catalogRoutes, { orm, notify });

  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= (async () => {
      await app.close();
      await scanner.stop();
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
    if (options.periodicJobs ?? true) scanner.start();
    listening = await listenOn(app, config);
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
  const { url, port } = listening;
  logger.info({ port }, 'inventory service listening');
  return { url, port, app, orm, nc, relay, consumer, scanner, stop };
}
