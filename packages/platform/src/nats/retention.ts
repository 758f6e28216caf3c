import type { ConsumerInfo, JetStreamManager, StreamInfo } from '@nats-io/jetstream';
import type { Logger } from 'pino';
import type { Gauge, Registry } from 'prom-client';
import { gauge } from '../metrics.js';
import { PeriodicJob, type Worker } from '../service/periodic-job.js';

/** From this share of a retention limit on, the unprocessed range is reported as at risk. */
export const RETENTION_WARNING_RATIO = 0.8;

export interface RetentionPressure {
  stream: string;
  consumer: string;
  /** Messages after the consumer's ack floor (not acknowledged yet). */
  unprocessed: number;
  /**
   * Stream messages after the consumer's ack floor that the stream no longer holds while the consumer still has
   * work: an upper bound of what it lost (some may not have matched its filter).
   */
  lost: number;
  /** Share of each limit the unprocessed range uses (1 = its oldest message is next to be discarded). */
  age: number | null;
  bytes: number | null;
  messages: number | null;
  /** The largest share, or Infinity when messages were lost already. */
  pressure: number;
  status: 'ok' | 'warning' | 'lost';
}

/**
 * How close a durable consumer's unprocessed range (after its ack floor) is to being discarded by the stream's
 * limits: age of its oldest message against `max_age`, its estimated bytes against `max_bytes` (the stream's
 * average message size), its message count against `max_msgs`. `headTime` is when its oldest message was stored.
 */
export function retentionPressure(
  stream: StreamInfo,
  consumer: ConsumerInfo,
  headTime: Date | null,
  now = new Date(),
): RetentionPressure {
  const { config, state } = stream;
  const unprocessed = consumer.num_pending + consumer.num_ack_pending;
  // The stream discards from its front whatever the subject, so what counts against the limits is everything
  // stored from the message after the ack floor on (all subjects): a conservative measure for a filtered consumer.
  const head = consumer.ack_floor.stream_seq + 1;
  const range = Math.max(0, state.last_seq - Math.max(head, state.first_seq) + 1);
  const base = { stream: config.name, consumer: consumer.name, unprocessed };
  if (unprocessed === 0) {
    return { ...base, lost: 0, age: 0, bytes: 0, messages: 0, pressure: 0, status: 'ok' };
  }
  const lost = Math.max(0, state.first_seq - head);
  if (lost > 0)
    return { ...base, lost, age: null, bytes: null, messages: null, pressure: Infinity, status: 'lost' };
  const ratio = (used: number, limit: number) => (limit > 0 ? used / limit : null);
  const age = headTime ? ratio(now.getTime() - headTime.getTime(), config.max_age / 1e6) : null;
  const averageBytes = state.messages > 0 ? state.bytes / state.messages : 0;
  const bytes = ratio(range * averageBytes, config.max_bytes);
  const messages = ratio(range, config.max_msgs);
  const pressure = Math.max(0, age ?? 0, bytes ?? 0, messages ?? 0);
  return {
    ...base,
    lost,
    age,
    bytes,
    messages,
    pressure,
    status: pressure >= RETENTION_WARNING_RATIO ? 'warning' : 'ok',
  };
}

/** Reads the stream, the consumer and the time of its oldest unprocessed message, and computes the pressure. */
export async function measureRetention(
  jsm: JetStreamManager,
  streamName: string,
  consumerName: string,
): Promise<RetentionPressure> {
  const [stream, consumer] = await Promise.all([
    jsm.streams.info(streamName),
    jsm.consumers.info(streamName, consumerName),
  ]);
  const head = consumer.ack_floor.stream_seq + 1;
  const stored =
    head <= stream.state.last_seq
      ? await jsm.streams
          .getMessage(streamName, { seq: Math.max(head, stream.state.first_seq) })
          .catch(() => null)
      : null;
  return retentionPressure(stream, consumer, stored?.time ?? null);
}

export interface RetentionWatchOptions {
  jsm: () => Promise<JetStreamManager>;
  logger: Logger;
  registry?: Registry;
  stream: string;
  consumers: string[];
  /** Time between checks; 0 turns the watch off. */
  intervalMs: number;
}

/**
 * Checks the service's durable consumers against the stream's retention limits: gauge
 * `consumer_retention_pressure{stream,consumer}` (share of the nearest limit; +Inf once messages were lost) and a
 * `warn` line from 80 % on, so a stopped or stuck consumer is noticed before the stream discards its backlog.
 */
export class RetentionWatch implements Worker {
  private readonly gauge: Gauge<'stream' | 'consumer'> | undefined;
  private readonly job: PeriodicJob;

  constructor(private readonly o: RetentionWatchOptions) {
    this.gauge =
      o.registry &&
      gauge(o.registry, {
        name: 'consumer_retention_pressure',
        help: "Share of the stream's nearest retention limit used by the consumer's unprocessed messages",
        labelNames: ['stream', 'consumer'],
      });
    // A failed check is a NATS problem that readiness and the connection's own logs report already.
    this.job = new PeriodicJob({
      run: () => this.check(),
      intervalMs: o.intervalMs,
      logger: o.logger,
      failureMessage: 'retention check failed',
      failureLevel: 'debug',
    });
  }

  start(): void {
    this.job.start();
  }

  stop(): Promise<void> {
    return this.job.stop();
  }

  async check(): Promise<RetentionPressure[]> {
    const jsm = await this.o.jsm();
    const results: RetentionPressure[] = [];
    for (const consumer of this.o.consumers) {
      const p = await measureRetention(jsm, this.o.stream, consumer);
      results.push(p);
      this.gauge?.set({ stream: p.stream, consumer: p.consumer }, p.pressure);
      if (p.status === 'lost') {
        this.o.logger.error(p, 'the stream discarded messages this consumer had not processed');
      } else if (p.status === 'warning') {
        this.o.logger.warn(
          p,
          `consumer's unprocessed messages use ${Math.round(p.pressure * 100)} % of a retention limit of the stream`,
        );
      }
    }
    return results;
  }
}
