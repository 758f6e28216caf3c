import type pg from 'pg';

/**
 * Where a service records the event ids it has processed, in the same transaction as its own effects, so a
 * redelivered event is recognised and skipped. `runOnce` returns 'duplicate' without calling `work` when the id
 * was already recorded.
 */
export interface ProcessedEvents<Tx> {
  runOnce(
    consumer: string,
    eventId: string,
    work: (tx: Tx) => Promise<void>,
  ): Promise<'processed' | 'duplicate'>;
}

export const PROCESSED_EVENTS_DDL = `create table if not exists processed_event (
  consumer text not null,
  event_id text not null,
  processed_at timestamptz not null default now(),
  primary key (consumer, event_id)
)`;

/** PostgreSQL: the id row and the service's writes commit or roll back together. */
export class PostgresProcessedEvents implements ProcessedEvents<pg.PoolClient> {
  constructor(private readonly pool: pg.Pool) {}

  /** Creates the table if missing; a service with its own migrations can run PROCESSED_EVENTS_DDL there instead. */
  async ensureTable(): Promise<void> {
    await this.pool.query(PROCESSED_EVENTS_DDL);
  }

  async runOnce(
    consumer: string,
    eventId: string,
    work: (tx: pg.PoolClient) => Promise<void>,
  ): Promise<'processed' | 'duplicate'> {
    const client = await this.pool.connect();
    try {
      await client.query('begin');
      const inserted = await client.query(
        'insert into processed_event (consumer, event_id) values ($1, $2) on conflict do nothing',
        [consumer, eventId],
      );
      if (inserted.rowCount === 0) {
        await client.query('rollback');
        return 'duplicate';
      }
      await work(client);
      await client.query('commit');
      return 'processed';
    } catch (error) {
      await client.query('rollback').catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }
}
