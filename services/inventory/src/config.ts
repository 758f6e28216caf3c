import { BaseConfig, loadConfig, requireAuthSettings } from '@inv/platform';
import { z } from 'zod';

const thresholdList = z
  .string()
  .regex(/^\s*\d{1,4}(\s*,\s*\d{1,4})*\s*$/, {
    error: 'must be a comma-separated list of whole days, e.g. 30,7,1',
  })
  .transform((text) => [...new Set(text.split(',').map((d) => Number(d.trim())))].sort((a, b) => b - a));

export const InventoryConfig = BaseConfig.extend({
  PORT: z.coerce.number().int().min(0).max(65_535).default(3001),
  DATABASE_URL: z.string().default('postgres://postgres@127.0.0.1:5432/inventory'),
  DB_POOL_SIZE: z.coerce.number().int().min(2).max(100).default(10),
  /**
   * Connections of the write path's own pool (stock changes without an Idempotency-Key), opened on demand. A
   * commit waits for its WAL flush, and PostgreSQL flushes the commits waiting together at once (group commit),
   * so concurrent writers get through in proportion to the connections they hold: with 10 connections 32
   * writers reached 38% of what the same transaction does raw over 32 (full bench, 2026-12-01).
   */
  WRITE_POOL_SIZE: z.coerce.number().int().min(2).max(100).default(32),
  /**
   * Write connections opened at start, warmed and kept open (more open on demand and close after a minute idle):
   * a new connection costs its first stock changes a backend start and their statement's planning, so a burst of
   * 100 adjusts/s right after start or after 12 s idle had its slowest at 0.4 / 0.8 s (~25 ms with them).
   */
  WRITE_POOL_MIN: z.coerce.number().int().min(0).max(100).default(8),
  /**
   * Statements at once that write concurrent requests together, per kind: stock changes (adjusts `in` / `out`
   * without an Idempotency-Key, If-Match, location or minimum) and new reservations (without an Idempotency-Key).
   * Requests arriving
   * while that many run wait and share the next one — one round trip, commit and row lock for up to 64 requests.
   * 0: every request in a statement of its own. 2, 4 and 8 gave 67/79%, 63/69% and 56/59% of the raw transaction
   * (32 writers on 1000 / 10 records, bench contention, one run each).
   */
  WRITE_BATCH_STATEMENTS: z.coerce.number().int().min(0).max(100).default(4),
  /** How often batches are scanned for expiry; 0 turns the periodic scan off. */
  BATCH_SCAN_INTERVAL_MS: z.coerce
    .number()
    .int()
    .min(0)
    .default(60 * 60_000),
  /**
   * Processes serving the API (node:cluster, sharing PORT); 1 runs the service in this process alone. Each
   * worker has its own pool of DB_POOL_SIZE connections; the outbox relay and the expiry scan run in one.
   */
  INVENTORY_WORKERS: z.coerce.number().int().min(1).max(32).default(1),
  /** Days before expiry at which `batch.expiring_soon` is published, once per batch and threshold. */
  BATCH_EXPIRY_THRESHOLDS_DAYS: thresholdList.default([30, 7, 1]),
  /**
   * GETs running at once, from handler to answer written; below DB_POOL_SIZE (the reads' pool). Four keep the
   * process busy while one waits on the database.
   */
  READ_CONCURRENCY: z.coerce.number().int().min(1).max(100).default(4),
  /**
   * GETs running at once while a write (adjust, reservation, batch) is in flight: a write's every step waits in the
   * event loop behind the read work ready at that moment, so fewer reads beside writes keep writes fast.
   */
  READ_CONCURRENCY_BESIDE_WRITES: z.coerce.number().int().min(1).max(100).default(2),
  /** GETs waiting for a place; past it a read is refused with 503 SERVER_BUSY and Retry-After. */
  READ_QUEUE: z.coerce.number().int().min(0).max(10_000).default(64),
  /**
   * Totals of a product/variant/UOM, and low-stock and expiring counts, over at least TOTALS_CACHE_MIN_ROWS
   * records (batches) are recomputed at most this often.
   */
  TOTALS_CACHE_MS: z.coerce.number().int().min(0).max(600_000).default(2_000),
  TOTALS_CACHE_MIN_ROWS: z.coerce.number().int().min(1).default(10_000),
  /** How often sagas still waiting are checked for transfer events dropped on the way; 0 (default) off. */
  RECONCILE_INTERVAL_SECONDS: z.coerce.number().int().min(0).default(0),
  /** How often expired order reservations are looked for and released; 0 turns the sweeper off. */
  RESERVATION_SWEEP_INTERVAL_MS: z.coerce.number().int().min(0).max(60_000).default(1000),
});
export type InventoryConfig = z.infer<typeof InventoryConfig>;

/** Reads the inventory service's settings from the environment; auth must be configured or disabled. */
export function loadInventoryConfig(env: NodeJS.ProcessEnv = process.env): InventoryConfig {
  return requireAuthSettings(loadConfig(InventoryConfig, env));
}
