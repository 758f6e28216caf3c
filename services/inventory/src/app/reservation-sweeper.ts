import { type Orm, PeriodicJob, type Worker } from '@inv/platform';
import type { Logger } from 'pino';
import { claimDueReservations } from '../infra/db/reservations.js';
import { expireLocked } from './reservations.js';

export interface ReservationSweeperOptions {
  orm: Orm;
  logger: Logger;
  /** How often due reservations are looked for; 0 turns the sweeper off (`sweepOnce` still works). */
  intervalMs: number;
  /** Reservations expired per transaction. */
  batchSize?: number;
  afterCommit?: () => void;
  now?: () => Date;
}

const SWEEPER = { actor: 'reservation-sweeper', correlationId: null };

/**
 * Gives the stock of expired reservations back. Each batch claims due reservations with
 * `FOR UPDATE SKIP LOCKED`, so instances sweeping at the same time take different ones, and expires them in
 * the same transaction; a reservation committed or released meanwhile is skipped by the state rule, so each
 * is released exactly once.
 */
export class ReservationSweeper implements Worker {
  private readonly logger: Logger;
  /** Sweeps never overlap: a sweep still running (a large backlog) is not doubled. */
  private readonly job: PeriodicJob<number>;

  constructor(private readonly options: ReservationSweeperOptions) {
    this.logger = options.logger.child({ component: 'reservation-sweeper' });
    this.job = new PeriodicJob({
      run: () => this.sweep(),
      intervalMs: options.intervalMs,
      logger: this.logger,
      failureMessage: 'reservation sweep failed',
      runAtStart: true,
    });
  }

  start(): void {
    this.job.start();
  }

  stop(): Promise<void> {
    return this.job.stop();
  }

  /** Expires every reservation due now; returns how many this instance expired. */
  sweepOnce(): Promise<number> {
    return this.job.runNow();
  }

  private async sweep(): Promise<number> {
    const limit = this.options.batchSize ?? 100;
    let expired = 0;
    for (;;) {
      const now = this.options.now?.() ?? new Date();
      const count = await this.options.orm.em.fork().transactional(async (em) => {
        const due = await claimDueReservations(em, now, limit);
        await expireLocked(em, due, SWEEPER, now);
        return due.length;
      });
      expired += count;
      if (count > 0) this.options.afterCommit?.();
      if (count < limit) break;
    }
    if (expired > 0) this.logger.info({ expired }, 'expired reservations released');
    return expired;
  }
}
