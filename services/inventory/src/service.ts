import { DURABLE_CONSUMERS, type WarehouseStockSummary } from '@inv/contracts';
import {
  histogram,
  migrateServiceDatabase,
  ReadGate,
  type RunningService,
  type ServiceDefinition,
  type StartServiceOptions,
  startService,
} from '@inv/platform';
import { jetstreamManager } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import { AggregateCache } from './app/aggregate-cache.js';
import { BatchExpiryScanner } from './app/batch-scanner.js';
import { MovementCombiner } from './app/movement-combiner.js';
import type { MovementLine } from './app/movements.js';
import { type PreparedReservation, reservationCombiner } from './app/reservation-creation.js';
import { ReservationSweeper } from './app/reservation-sweeper.js';
import { SagaReconciler } from './app/saga-reconciler.js';
import { TransferSagaHandler } from './app/transfer-saga.js';
import type { InventoryConfig } from './config.js';
import { INVENTORY_ENTITIES } from './infra/db/entities.js';
import { INVENTORY_MIGRATIONS } from './infra/db/migrations/index.js';
import { warmMovementStatements } from './infra/db/movements.js';
import { createStockPool, poolClient, type SqlClient } from './infra/db/sql-client.js';
import { batchRoutes } from './infra/http/batch-routes.js';
import { catalogRoutes } from './infra/http/catalog-routes.js';
import { countWritesAt } from './infra/http/read-admission.js';
import { reservationRoutes } from './infra/http/reservation-routes.js';
import { stockRoutes } from './infra/http/stock-routes.js';

export const inventoryMigrations = INVENTORY_MIGRATIONS;

/** What the inventory service shows of itself besides what every service has. */
export interface InventoryParts {
  /** The service's own pool for hand-written statements (applyMovements). */
  db: SqlClient;
  scanner: BatchExpiryScanner;
  /** Finds and applies transfer events the saga consumer passed without applying (periodic when configured). */
  reconciler: SagaReconciler;
  /** Releases order reservations past their expiry (SKIP LOCKED batches: safe in every instance). */
  sweeper: ReservationSweeper;
}

export type InventoryService = RunningService & InventoryParts;

export interface StartOptions extends StartServiceOptions {
  /** The scanner's clock, for tests. */
  now?: () => Date;
}

/** Stock, its ledger, batches and reservations; applies the transfer saga's events. */
function inventoryDefinition(options: StartOptions = {}): ServiceDefinition<InventoryConfig, InventoryParts> {
  return {
    name: 'inventory',
    entities: INVENTORY_ENTITIES,
    migrations: inventoryMigrations,
    docs: {
      title: 'Inventory service',
      description:
        'Stock per product, variant, unit and warehouse; movement ledger; batches; order reservations; transfer saga.',
    },
    // No parallel workers for the ORM pool's reads: the only plans that would use them are the totals over a
    // large set (half the catalogue for a unit), and a parallel scan took both cores from the writes beside it
    // (bench `scale`, 100 adjusts/s beside 20 readers at 1M records: p99 1.1–1.9 s with, 0.49 s without).
    sessionSettings: { max_parallel_workers_per_gather: '0' },
    inbox: {
      durable: DURABLE_CONSUMERS.inventoryTransfers,
      handler: (logger) => new TransferSagaHandler(logger).handle,
    },
    parts: ({ config, logger, registry, nc, orm, consumer, notify }) => {
      const pool = createStockPool(config, logger, { warm: warmMovementStatements });
      const db = poolClient(pool, notify);
      const requestsPerStatement = histogram(registry, {
        name: 'inventory_write_batch_requests',
        help: 'Requests booked per statement of the write path (1: the request found a free slot)',
        labelNames: ['kind'],
        buckets: [1, 2, 4, 8, 16, 32, 64],
      });
      const combining = (kind: string) => ({
        statements: config.WRITE_BATCH_STATEMENTS,
        requestsPerStatement: requestsPerStatement.labels({ kind }),
      });
      const combiner = new MovementCombiner(db, combining('stock_change'));
      const reservations = reservationCombiner(db, combining('reservation'));
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
      const reconciler = new SagaReconciler({
        orm,
        jsm: () => jetstreamManager(nc),
        consumer,
        logger,
        registry,
        intervalMs: config.RECONCILE_INTERVAL_SECONDS * 1000,
      });
      const reads = new ReadGate({
        concurrency: config.READ_CONCURRENCY,
        concurrencyBesideWrites: config.READ_CONCURRENCY_BESIDE_WRITES,
        queue: config.READ_QUEUE,
      });
      const acrossTotals =
        config.TOTALS_CACHE_MS > 0
          ? new AggregateCache<WarehouseStockSummary[]>({
              ttlMs: config.TOTALS_CACHE_MS,
              minRows: config.TOTALS_CACHE_MIN_ROWS,
              maxKeys: 1_000,
            })
          : undefined;
      return {
        routes: async (app) => {
          countWritesAt(app, reads);
          const adjustWriter = (line: MovementLine) => combiner.apply(line);
          await app.register(stockRoutes, { orm, db, notify, reads, acrossTotals, adjustWriter });
          await app.register(batchRoutes, { orm, db, notify, reads, acrossTotals });
          const createWriter = (reservation: PreparedReservation) => reservations.write(reservation);
          await app.register(reservationRoutes, { orm, db, notify, reads, createWriter });
          await app.register(catalogRoutes, { orm, db, notify, reads });
        },
        workers: [reconciler, scanner, sweeper],
        close: () => pool.end().catch(() => undefined),
        exposed: { db, scanner, reconciler, sweeper },
      };
    },
  };
}

/** Creates the database if needed and applies pending migrations (platform tables first); returns their names. */
export function migrateInventoryDatabase(config: InventoryConfig, logger?: Logger): Promise<string[]> {
  return migrateServiceDatabase(inventoryDefinition(), config, logger);
}

/**
 * Starts HTTP, the outbox relay, the transfer saga consumer and the periodic jobs: batch expiry scan,
 * reservation sweep, saga reconciliation (with the template's purges and retention watch).
 */
export function startInventoryService(
  config: InventoryConfig,
  options: StartOptions = {},
): Promise<InventoryService> {
  return startService(inventoryDefinition(options), config, options);
}
