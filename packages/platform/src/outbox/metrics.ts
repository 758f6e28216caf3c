import type { Registry } from 'prom-client';
import type { Orm } from '../db/orm.js';
import { gauge } from '../metrics.js';

/** Outbox backlog as seen at scrape time: how many events wait and how old the oldest is. */
export function registerOutboxGauges(registry: Registry, orm: Orm): void {
  let last = { pending: 0, oldest: 0 };
  const read = async () => {
    try {
      const [row] = await orm.em.fork().execute<{ pending: string; oldest: number | null }[]>(
        `select count(*) as pending, extract(epoch from now() - min(created_at)) as oldest
             from outbox where published_at is null`,
      );
      last = { pending: Number(row?.pending ?? 0), oldest: Number(row?.oldest ?? 0) };
    } catch {
      // Keep the last reading while the database is away; readiness reports the outage.
    }
    return last;
  };
  gauge(registry, {
    name: 'outbox_pending_events',
    help: 'Events in the outbox not yet acknowledged by JetStream',
    async collect() {
      this.set((await read()).pending);
    },
  });
  gauge(registry, {
    name: 'outbox_oldest_pending_seconds',
    help: 'Age of the oldest unpublished outbox event (relay lag)',
    async collect() {
      this.set(last.oldest);
    },
  });
}
