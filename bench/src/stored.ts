import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { type BenchRecord, recordSubject, stockEventJson, WARMUP_REASON } from './events.js';

/**
 * Stores `count` events of a record in the stream (each acknowledged: stored, and republished on `live.`),
 * versions `fromVersion + 1` onwards, 500 in flight at a time.
 */
export async function publishStored(
  nc: NatsConnection,
  record: BenchRecord,
  count: number,
  fromVersion: number,
): Promise<void> {
  const js = jetstream(nc);
  const subject = recordSubject(record);
  for (let start = 0; start < count; start += 500) {
    const batch = Array.from({ length: Math.min(500, count - start) }, (_, i) =>
      js.publish(subject, stockEventJson(record, fromVersion + start + i + 1, WARMUP_REASON)),
    );
    await Promise.all(batch);
  }
}
