import { type DomainEvent, decodeEvent, EVENTS_STREAM } from '@inv/contracts';
import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiError,
  type JetStreamManager,
  type JsMsg,
  jetstream,
  jetstreamManager,
} from '@nats-io/jetstream';
import { type NatsConnection, nanos } from '@nats-io/nats-core';
import { type EventSelection, filterSubjectFor, selects } from './filter.js';
import type { ProcessedEvents } from './processed.js';

/** The stream dropped events this consumer had not processed yet (retention passed while it was away). */
export interface RetentionGap {
  /** First and last stream sequence lost; the consumer resumes at `lastLost + 1`. */
  firstLost: number;
  lastLost: number;
}

export interface EventConsumerOptions<Tx> {
  nc: NatsConnection;
  /** Durable consumer name: one per service (instances of the service share it and split the work). */
  durable: string;
  selection: EventSelection;
  processed: ProcessedEvents<Tx>;
  /** The service's effects, inside the transaction that also records the event id. */
  handle: (event: DomainEvent, tx: Tx) => Promise<void>;
  /** A new consumer starts at the first event still in the stream ('all', default) or at the next one ('new'). */
  startAt?: 'all' | 'new';
  /**
   * Called at start when events the consumer never saw have aged out of the stream. Resynchronise from the REST
   * API (current stock, transfers) here; the default only warns.
   */
  onRetentionGap?: (gap: RetentionGap) => Promise<void> | void;
  /** An event that does not decode (corrupt, or a type or version newer than this build's contracts). */
  onUndecodable?: (msg: JsMsg, message: string) => void;
  log?: (level: 'info' | 'warn' | 'error', message: string, details?: object) => void;
}

const CONSUMER_NOT_FOUND = 10014;

/** Binds the durable consumer, creating it on first use; 'created' when it is new. */
async function bindConsumer(
  jsm: JetStreamManager,
  options: EventConsumerOptions<unknown>,
): Promise<'created' | 'bound'> {
  try {
    await jsm.consumers.info(EVENTS_STREAM, options.durable);
    return 'bound';
  } catch (error) {
    if (!(error instanceof JetStreamApiError && error.code === CONSUMER_NOT_FOUND)) throw error;
  }
  const filter = filterSubjectFor(options.selection);
  await jsm.consumers.add(EVENTS_STREAM, {
    durable_name: options.durable,
    ...(filter === '>' ? {} : { filter_subject: filter }),
    ack_policy: AckPolicy.Explicit,
    deliver_policy: options.startAt === 'new' ? DeliverPolicy.New : DeliverPolicy.All,
    ack_wait: nanos(30_000),
    max_deliver: -1,
    // One at a time keeps stream order per consumer; raise it only for a handler that does not need order.
    max_ack_pending: 1,
  });
  return 'created';
}

/** The events aged out before this consumer acknowledged them, if any. */
export async function findRetentionGap(jsm: JetStreamManager, durable: string): Promise<RetentionGap | null> {
  const [stream, consumer] = await Promise.all([
    jsm.streams.info(EVENTS_STREAM),
    jsm.consumers.info(EVENTS_STREAM, durable),
  ]);
  const nextWanted = consumer.ack_floor.stream_seq + 1;
  const firstKept = stream.state.first_seq;
  if (consumer.ack_floor.stream_seq === 0 && consumer.config.deliver_policy !== DeliverPolicy.All)
    return null;
  return nextWanted < firstKept ? { firstLost: nextWanted, lastLost: firstKept - 1 } : null;
}

/**
 * Consumes chosen events from the EVENTS stream with a durable consumer: decodes and upcasts each to its
 * current version, skips those outside the selection, runs `handle` once per event id in the service's own
 * transaction, and acknowledges only after that commit. A failed handler is retried with backoff; the
 * consumer keeps its position across restarts.
 */
export class EventConsumer<Tx> {
  private readonly abort = new AbortController();
  private loop: Promise<void> | null = null;
  /** The stream's creation time when the consumer was bound: a new one (the server lost its storage) lacks it. */
  private streamCreated: string | null = null;

  constructor(private readonly options: EventConsumerOptions<Tx>) {}

  async start(): Promise<void> {
    const jsm = await jetstreamManager(this.options.nc);
    const binding = await bindConsumer(jsm, this.options as EventConsumerOptions<unknown>);
    this.streamCreated = (await jsm.streams.info(EVENTS_STREAM)).created;
    // A new consumer has missed nothing: it starts where it was told to.
    const gap = binding === 'bound' ? await findRetentionGap(jsm, this.options.durable) : null;
    if (gap) {
      if (this.options.onRetentionGap) await this.options.onRetentionGap(gap);
      else this.log('warn', 'events aged out of the stream before this consumer saw them', gap);
    }
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }

  private log(level: 'info' | 'warn' | 'error', message: string, details?: object) {
    this.options.log?.(level, message, details);
  }

  private async run(): Promise<void> {
    const bind = () => jetstream(this.options.nc).consumers.get(EVENTS_STREAM, this.options.durable);
    let consumer = await bind();
    let failures = 0;
    while (!this.abort.signal.aborted) {
      try {
        const msg = await consumer.next({ expires: 2_000 });
        if (msg) await this.process(msg);
        failures = 0;
      } catch (error) {
        if (this.abort.signal.aborted) return;
        failures++;
        this.log('warn', 'consumer pull failed; retrying', { error: (error as Error).message });
        await new Promise((r) => setTimeout(r, Math.min(5_000, 100 * 2 ** failures)));
        if (await this.rebindInNewStream().catch(() => false)) consumer = await bind();
      }
    }
  }

  /**
   * A NATS server that lost its storage comes back without the stream and this consumer; once a producer has
   * made the stream again (its creation time changed), the consumer is made again in it, from its first event:
   * all of it came after the loss. A consumer deleted from the same stream stays deleted (an operator's doing).
   */
  private async rebindInNewStream(): Promise<boolean> {
    const jsm = await jetstreamManager(this.options.nc);
    const { created } = await jsm.streams.info(EVENTS_STREAM);
    if (created === this.streamCreated) return false;
    await bindConsumer(jsm, { ...(this.options as EventConsumerOptions<unknown>), startAt: 'all' });
    this.streamCreated = created;
    this.log('warn', 'the EVENTS stream was made anew; this consumer was made again from its start');
    return true;
  }

  private async process(msg: JsMsg): Promise<void> {
    const decoded = decodeEvent(msg.data);
    if (!decoded.ok) {
      if (this.options.onUndecodable) this.options.onUndecodable(msg, decoded.message);
      else this.log('error', 'undecodable event skipped', { seq: msg.seq, reason: decoded.message });
      msg.ack();
      return;
    }
    if (!selects(this.options.selection, decoded.event)) {
      msg.ack();
      return;
    }
    try {
      await this.options.processed.runOnce(this.options.durable, decoded.event.id, (tx) =>
        this.options.handle(decoded.event, tx),
      );
      await msg.ackAck();
    } catch (error) {
      const delay = Math.min(60_000, 500 * 2 ** (msg.info.deliveryCount - 1));
      this.log('warn', 'handler failed; event will be redelivered', {
        eventId: decoded.event.id,
        attempt: msg.info.deliveryCount,
        delayMs: delay,
        error: (error as Error).message,
      });
      msg.nak(delay);
    }
  }
}
