import { DURABLE_CONSUMERS, EVENTS_STREAM, type WarehouseStockSummary } from '@inv/contracts';
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
  ReadGate,
  RetentionWatch,
  registerOutboxGauges,
  relayLockKey,
  TablePurger,
} from '@inv/platform';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import { AggregateCache } from './app/aggregate-cache.js';
import { BatchExpiryScanner } from './app/batch-scanner.js';
import { ReservationSweeper } from './app/reservation-sweeper.js';
import { SagaReconciler } from './app/saga-reconciler.js';
import { TransferSagaHandler } from './app/transfer-saga.js';
import type { InventoryConfig } from './config.js';
import { INVENTORY_ENTITIES } from './infra/db/entities.js';
import { INVENTORY_MIGRATIONS } from './infra/db/Migration20261122100000_inventory.js';
import { createStockPool, poolClient, type SqlClient } from './infra/db/sql-client.js';
import { batchRoutes } from './infra/http/batch-routes.js';
import { catalogRoutes } from './infra/http/catalog-routes.js';
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
  /** Scheduled purges of expired idempotency keys and inbox rows. */
  purger: TablePurger;
  scanner: BatchExpiryScanner;
  /** Finds and applies transfer events the saga consumer passed without applying (periodic when configured). */
  reconciler: SagaReconciler;
  /** Releases order reservations past their expiry (SKIP LOCKED batches: safe in every instance). */
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
  const nc = await connectEventBus(config, 'inventory', logger, { deadLetters: true });
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
  // The relay wakes itself when it leads, or passes one coalesced NOTIFY to the instance that does.
  const db = poolClient(pool, notify);
  const consumer = new InboxConsumer({
    nc,
    orm,
    logger,
    registry,
    service: 'inventory',
    durable: DURABLE_CONSUMERS.inventoryTransfers,
    handle: new TransferSagaHandler(logger).handle,
    afterCommit: notify,
    retry: { baseMs: config.INBOX_RETRY_BASE_MS, maxMs: config.INBOX_RETRY_MAX_MS },
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

  const purger = new TablePurger({
    orm,
    databaseUrl: config.DATABASE_URL,
    nc,
    logger,
    registry,
    service: 'inventory',
    intervalMs: config.PURGE_INTERVAL_SECONDS * 1000,
    idempotencyRetentionHours: config.IDEMPOTENCY_KEY_RETENTION_HOURS,
  });

  const retention = new RetentionWatch({
    jsm: () => jetstreamManager(nc),
    logger,
    registry,
    stream: EVENTS_STREAM,
    consumers: [DURABLE_CONSUMERS.inventoryTransfers.name],
    intervalMs: config.RETENTION_WATCH_INTERVAL_SECONDS * 1000,
  });

  const reconciler = new SagaReconciler({
    orm,
    jsm: () => jetstreamManager(nc),
    consumer,
    logger,
    registry,
    intervalMs: config.RECONCILE_INTERVAL_SECONDS * 1000,
  });

  const app = await createHttpServer({
    logger,
    registry,
    slowRequestMs: config.SLOW_REQUEST_MS,
    verifyToken: createTokenVerifier(authSettingsFrom(config)),
    readiness: { ...databaseAndNatsReadiness(orm, nc), ...consumer.readiness() },
    docs: {
      title: 'Inventory service',
      description:
        'Stock per product, variant, unit and warehouse; movement ledger; batches; order reservations; transfer saga.',
    },
  });
  const reads = new ReadGate({ concurrency: config.READ_CONCURRENCY, queue: config.READ_QUEUE });
  const acrossTotals =
    config.TOTALS_CACHE_MS > 0
      ? new AggregateCache<WarehouseStockSummary[]>({
          ttlMs: config.TOTALS_CACHE_MS,
          minRows: config.TOTALS_CACHE_MIN_ROWS,
          maxKeys: 1_000,
        })
      : undefined;
  await app.register(stockRoutes, { orm, db, notify, reads, acrossTotals });
  await app.register(batchRoutes, { orm, db, notify, reads });
  await app.register(reservationRoutes, { orm, db, notify, reads });
  await app.register(catalogRoutes, { orm, db, notify, reads });

  let stopping: Promise<void> | null = null;
  const stop = () => {
    stopping ??= (async () => {
      await app.close();
      await scanner.stop();
      await sweeper.stop();
      await reconciler.stop();
      await retention.stop();
      await purger.stop();
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
    // Periodic jobs run in one worker of a cluster (worker 0); each is also safe in several instances.
    if (options.periodicJobs ?? true) {
      purger.start();
      retention.start();
      reconciler.start();
      scanner.start();
      sweeper.start();
    }
    listening = await listenOn(app, config);
  } catch (error) {
    await stop().catch(() => undefined);
    throw error;
  }
  const { url, port } = listening;
  logger.info({ port }, 'inventory service listening');
  return { url, port, app, orm, db, nc, relay, consumer, purger, scanner, reconciler, sweeper, stop };
}
