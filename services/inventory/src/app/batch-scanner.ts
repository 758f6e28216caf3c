import { createEvent } from '@inv/contracts';
import { appendToOutbox, type Orm, PeriodicJob, type Worker } from '@inv/platform';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import { DAY_MS, daysUntilExpiry, reachedThresholds, thresholdToAnnounce } from '../domain/batch-expiry.js';
import { recordRef } from '../domain/record.js';
import {
  type BatchWithRecord,
  claimExpiryNotices,
  findBatchesExpiringBetween,
  recordNoticeEvent,
} from '../infra/db/batches.js';

export interface BatchExpiryScannerOptions {
  orm: Orm;
  logger: Logger;
  /** Days before expiry at which a batch is announced, e.g. [30, 7, 1]. */
  thresholdsDays: readonly number[];
  /** 0 disables the periodic scan (`scanOnce` still works). */
  intervalMs: number;
  afterCommit?: () => void;
  now?: () => Date;
}

const PAGE = 500;

/**
 * Announces `batch.expiring_soon` once per batch and threshold. Which thresholds were announced is kept in a
 * table whose key makes the announcement happen once even with several instances scanning at the same time.
 */
export class BatchExpiryScanner implements Worker {
  private readonly logger: Logger;
  /** Scans never overlap: a scan asked for while one runs starts after it. */
  private readonly job: PeriodicJob<number>;

  constructor(private readonly options: BatchExpiryScannerOptions) {
    this.logger = options.logger.child({ component: 'batch-expiry-scanner' });
    this.job = new PeriodicJob({
      run: () => this.scan(this.options.now?.() ?? new Date()),
      intervalMs: options.intervalMs,
      logger: this.logger,
      failureMessage: 'batch expiry scan failed',
      runAtStart: true,
    });
  }

  start(): void {
    this.job.start();
  }

  stop(): Promise<void> {
    return this.job.stop();
  }

  /** Scans every batch expiring within the largest threshold; returns how many notices were published. */
  scanOnce(now: Date = this.options.now?.() ?? new Date()): Promise<number> {
    return this.job.runNow(() => this.scan(now));
  }

  private async scan(now: Date): Promise<number> {
    const horizon = new Date(now.getTime() + Math.max(0, ...this.options.thresholdsDays) * DAY_MS);
    let after: { expiresAt: Date; batchId: string } | undefined;
    let announced = 0;
    for (;;) {
      const page = await this.options.orm.em.fork().transactional(async (em) => {
        const batches = await findBatchesExpiringBetween(em, now, horizon, { after, limit: PAGE });
        let count = 0;
        for (const batch of batches) if (await this.announce(em, batch, now)) count++;
        return { batches, count };
      });
      announced += page.count;
      if (page.count > 0) this.options.afterCommit?.();
      const last = page.batches.at(-1);
      if (!last || page.batches.length < PAGE) break;
      after = { expiresAt: last.expiresAt, batchId: last.batchId };
    }
    if (announced > 0) this.logger.info({ announced }, 'expiring batches announced');
    return announced;
  }

  private async announce(em: EntityManager, batch: BatchWithRecord, now: Date): Promise<boolean> {
    const reached = reachedThresholds(
      batch.expiresAt,
      now,
      this.options.thresholdsDays,
      batch.notifiedThresholds,
    );
    if (reached.length === 0) return false;
    const thresholdDays = thresholdToAnnounce(await claimExpiryNotices(em, batch.batchId, reached));
    if (thresholdDays === null) return false;
    const event = createEvent(
      'batch.expiring_soon',
      {
        ...recordRef(batch),
        batchId: batch.batchId,
        batchNumber: batch.batchNumber,
        quantity: batch.remaining,
        expiresAt: batch.expiresAt.toISOString(),
        daysUntilExpiry: daysUntilExpiry(batch.expiresAt, now),
        thresholdDays,
        timestamp: now.toISOString(),
      },
      // The scan's clock may be a test's; the event id and occurredAt keep real time so ids stay ordered.
      { aggregate: { type: 'inventory', id: batch.inventoryId, version: batch.recordVersion } },
    );
    await recordNoticeEvent(em, batch.batchId, thresholdDays, event.id);
    await appendToOutbox(em, [event]);
    return true;
  }
}
