import { EVENTS_STREAM } from '@inv/contracts';
import { jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import pg from 'pg';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { Orm } from '../db/orm.js';
import { purgeIdempotencyKeys } from '../idempotency/command.js';
import { counter } from '../metrics.js';
import { PeriodicJob, type Worker } from '../service/periodic-job.js';

/** Inbox rows outlive the stream's retention by this much, for clock skew and events published late. */
const INBOX_MARGIN_MS = 60 * 60_000;

export interface TablePurgerOptions {
  orm: Orm;
  /** For the session that holds the advisory lock while a purge runs. */
  databaseUrl: string;
  nc: NatsConnection;
  logger: Logger;
  registry?: Registry;
  /** Names the advisory lock: one purge at a time per service database. */
  service: string;
  /** Time between purges; 0 turns scheduled purges off. */
  intervalMs: number;
  idempotencyRetentionHours: number;
  batchSize?: number;
  /** The stream whose retention bounds how long inbox rows must be kept. */
  stream?: string;
}

export interface PurgeResult {
  idempotencyKeys: number;
  inbox: number;
  /** How old an inbox row had to be to go; null when the stream keeps events for ever (nothing purged). */
  inboxCutoff: Date | null;
}

/**
 * Keeps the idempotency-key and inbox tables bounded. Idempotency keys go after their lifetime; an inbox row
 * goes only once the stream can no longer deliver its event again (older than the stream's `max_age`), so a
 * redelivery within retention is still recognised. One instance at a time purges (advisory lock), in batches.
 */
export class TablePurger implements Worker {
  private readonly logger: Logger;
  private readonly purged: ((table: string, rows: number) => void) | undefined;
  private readonly job: PeriodicJob;

  constructor(private readonly o: TablePurgerOptions) {
    this.logger = o.logger.child({ component: 'table-purger' });
    if (o.registry) {
      const rows = counter(o.registry, {
        name: 'table_purged_rows_total',
        help: 'Rows removed by scheduled purges',
        labelNames: ['table'],
      });
      this.purged = (table, count) => rows.inc({ table }, count);
    }
    this.job = new PeriodicJob({
      run: () => this.runOnce(),
      intervalMs: o.intervalMs,
      logger: this.logger,
      failureMessage: 'purge failed; trying again next time',
    });
  }

  start(): void {
    this.job.start();
  }

  stop(): Promise<void> {
    return this.job.stop();
  }

  /** One purge; null when another instance holds the lock (it is purging). */
  async runOnce(): Promise<PurgeResult | null> {
    const client = new pg.Client({ connectionString: this.o.databaseUrl, application_name: 'table-purger' });
    await client.connect();
    try {
      const key = purgeLockKey(this.o.service);
      const { rows } = await client.query<{ locked: boolean }>('select pg_try_advisory_lock($1) as locked', [
        key,
      ]);
      if (!rows[0]?.locked) return null;
      try {
        return await this.purge();
      } finally {
        await client.query('select pg_advisory_unlock($1)', [key]);
      }
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  private async purge(): Promise<PurgeResult> {
    const batchSize = this.o.batchSize ?? 1_000;
    const idempotencyKeys = await purgeIdempotencyKeys(
      this.o.orm,
      this.o.idempotencyRetentionHours,
      batchSize,
    );
    const inboxCutoff = await this.inboxCutoff();
    const inbox = inboxCutoff ? await purgeInbox(this.o.orm, inboxCutoff, batchSize) : 0;
    this.purged?.('idempotency_key', idempotencyKeys);
    this.purged?.('inbox', inbox);
    if (idempotencyKeys + inbox > 0) {
      this.logger.info({ idempotencyKeys, inbox, inboxCutoff }, 'purged expired rows');
    }
    return { idempotencyKeys, inbox, inboxCutoff };
  }

  private async inboxCutoff(): Promise<Date | null> {
    const jsm = await jetstreamManager(this.o.nc);
    const info = await jsm.streams.info(this.o.stream ?? EVENTS_STREAM);
    const maxAgeMs = info.config.max_age / 1e6;
    return maxAgeMs > 0 ? new Date(Date.now() - maxAgeMs - INBOX_MARGIN_MS) : null;
  }
}

/** Deletes inbox rows processed before `cutoff`, `batchSize` at a time; returns how many went. */
export async function purgeInbox(orm: Orm, cutoff: Date, batchSize = 1_000): Promise<number> {
  let total = 0;
  for (;;) {
    const rows = await orm.em.fork().execute<{ count: string }[]>(
      `with gone as (
         delete from inbox where ctid in (select ctid from inbox where processed_at < ? limit ?) returning 1)
       select count(*) from gone`,
      [cutoff, batchSize],
    );
    const count = Number(rows[0]?.count ?? 0);
    total += count;
    if (count < batchSize) return total;
  }
}

/** A stable advisory-lock key per service, distinct from the outbox relay's. */
export function purgeLockKey(service: string): number {
  let hash = 0;
  for (const ch of `table-purger:${service}`) hash = (Math.imul(hash, 31) + ch.charCodeAt(0)) | 0;
  return hash;
}
