import { type DomainEvent, decodeEvent, EVENTS_STREAM } from '@inv/contracts';
import type { EntityManager } from '@mikro-orm/postgresql';
import { type ConsumerMessages, type JsMsg, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import { Counter, type Registry } from 'prom-client';
import { isRetryableConflict, OPTIMISTIC_RETRY_DELAYS_MS } from '../concurrency.js';
import type { Orm } from '../db/orm.js';
import { type DurableOptions, ensureDurableConsumer } from '../nats/streams.js';
import { backoffDelay, sleep } from '../retry.js';

const PULL_EXPIRES_MS = 5_000;

export interface InboxContext {
  streamSeq: number;
  subject: string;
  deliveryCount: number;
}

export interface InboxConsumerOptions {
  nc: NatsConnection;
  orm: Orm;
  logger: Logger;
  durable: DurableOptions;
  registry?: Registry;
  /** Applies one event inside the transaction that also records it in the inbox. */
  handle: (em: EntityManager, event: DomainEvent, context: InboxContext) => Promise<void>;
  afterCommit?: () => void;
  /** Deliveries after which an event that keeps failing is set aside (logged and terminated). */
  maxFailures?: number;
}

/**
 * A durable JetStream consumer whose every event is applied exactly once: the event id goes into the inbox
 * table in the same transaction as its effects, and the message is acknowledged only after commit. A
 * redelivery (lost ack, restart, another instance) finds the id and is acknowledged without effect.
 */
export class InboxConsumer {
  private stopping = false;
  private loop: Promise<void> | null = null;
  private messages: ConsumerMessages | null = null;
  private readonly logger: Logger;
  private readonly counters: Record<'applied' | 'duplicates' | 'poisoned', (() => void) | undefined>;

  constructor(private readonly options: InboxConsumerOptions) {
    this.logger = options.logger.child({ component: 'inbox', consumer: options.durable.name });
    const counter = (name: string, help: string) => {
      const registry = options.registry;
      if (!registry) return undefined;
      const metric =
        (registry.getSingleMetric(name) as Counter<'consumer'> | undefined) ??
        new Counter({ name, help, labelNames: ['consumer'], registers: [registry] });
      return () => metric.inc({ consumer: options.durable.name });
    };
    this.counters = {
      applied: counter('inbox_applied_total', 'Events applied'),
      duplicates: counter('inbox_duplicates_total', 'Redelivered events skipped'),
      poisoned: counter('inbox_poisoned_total', 'Events set aside as unprocessable'),
    };
  }

  async start(): Promise<void> {
    await ensureDurableConsumer(await jetstreamManager(this.options.nc), this.options.durable);
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    await this.messages?.close();
    await this.loop;
  }

  private async run(): Promise<void> {
    const js = jetstream(this.options.nc);
    let failures = 0;
    while (!this.stopping) {
      try {
        const consumer = await js.consumers.get(
          this.options.durable.stream ?? EVENTS_STREAM,
          this.options.durable.name,
        );
        // Short pulls: after a server restart nats.js re-checks the consumer with a backoff of up to `expires`,
        // so the default 30 s would stall the saga for as long.
        this.messages = await consumer.consume({ max_messages: 32, expires: PULL_EXPIRES_MS });
        for await (const msg of this.messages) {
          await this.process(msg);
          failures = 0;
          if (this.stopping) break;
        }
      } catch (error) {
        if (this.stopping) break;
        failures++;
        this.logger.warn({ err: error, failures }, 'consumer interrupted; resuming');
        await sleep(backoffDelay(failures, 200, 5_000));
      }
    }
  }

  private async process(msg: JsMsg): Promise<void> {
    const decoded = decodeEvent(msg.data);
    if (!decoded.ok) {
      this.logger.error(
        { subject: msg.subject, seq: msg.seq, reason: decoded.message },
        'undecodable event set aside',
      );
      this.counters.poisoned?.();
      msg.term(); // no reason: NATS 2.9 ignores '+TERM <reason>' and would redeliver after ack_wait
      return;
    }
    const event = decoded.event;
    const context: InboxContext = {
      streamSeq: msg.seq,
      subject: msg.subject,
      deliveryCount: msg.info.deliveryCount,
    };
    try {
      const applied = await this.applyOnce(event, context);
      msg.ack();
      if (applied) {
        this.counters.applied?.();
        this.options.afterCommit?.();
      } else {
        this.counters.duplicates?.();
      }
    } catch (error) {
      const maxFailures = this.options.maxFailures ?? 20;
      if (context.deliveryCount >= maxFailures) {
        this.logger.error(
          { err: error, eventId: event.id, type: event.type },
          'event keeps failing; set aside',
        );
        this.counters.poisoned?.();
        msg.term();
        return;
      }
      this.logger.warn(
        { err: error, eventId: event.id, delivery: context.deliveryCount },
        'event failed; redelivering',
      );
      msg.nak(backoffDelay(context.deliveryCount, 250, 10_000));
    }
  }

  /** Returns false when the event was applied before. Retries lost optimistic-locking races like a command. */
  private async applyOnce(event: DomainEvent, context: InboxContext): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.options.orm.em.fork().transactional(async (em) => {
          const inserted = await em.execute<unknown[]>(
            `insert into inbox (consumer, event_id, event_type, stream_seq) values (?, ?, ?, ?)
             on conflict do nothing returning 1`,
            [this.options.durable.name, event.id, event.type, context.streamSeq],
          );
          if (inserted.length === 0) return false;
          await this.options.handle(em, event, context);
          return true;
        });
      } catch (error) {
        const delay = OPTIMISTIC_RETRY_DELAYS_MS[attempt];
        if (!isRetryableConflict(error) || delay === undefined) throw error;
        await sleep(delay);
      }
    }
  }
}
