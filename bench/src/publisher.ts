import type { NatsConnection } from '@nats-io/nats-core';
import { type BenchRecord, recordSubject, stockEventJson, timedReason, WARMUP_REASON } from './events.js';
import { type PaceResult, paced } from './pace.js';
import { now } from './stats.js';

/**
 * Publishes `inventory.updated` events of one record straight onto its stream subject (core publish, as fast as
 * the relay would), `rate` per second for `durationMs`. The stream stores each and republishes it on `live.`,
 * where the gateway, NATS-direct clients and the Socket.IO relay all take it from.
 */
export class EventPublisher {
  private version = 0;

  constructor(
    private readonly nc: NatsConnection,
    private readonly record: BenchRecord,
  ) {}

  async run(rate: number, durationMs: number, timed = true): Promise<PaceResult> {
    const subject = recordSubject(this.record);
    const result = await paced(rate, durationMs, () => {
      const reason = timed ? timedReason(now()) : WARMUP_REASON;
      this.nc.publish(subject, stockEventJson(this.record, ++this.version, reason));
    });
    await this.nc.flush();
    return result;
  }
}
