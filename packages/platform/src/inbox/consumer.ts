import {
  type DomainEvent,
  decodeEvent,
  EVENTS_STREAM,
  type RedriveReply,
  redriveSubject,
} from '@inv/contracts';
import type { EntityManager } from '@mikro-orm/postgresql';
import { type ConsumerMessages, type JsMsg, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { Msg, NatsConnection, Subscription } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { isRetryableConflict, OPTIMISTIC_RETRY_DELAYS_MS } from '../concurrency.js';
import type { Orm } from '../db/orm.js';
import { DegradedError, type ReadinessCheck } from '../http/plugins/health.js';
import { counter, gauge } from '../metrics.js';
import { DEFAULT_ACK_WAIT_MS, type DurableOptions, ensureDurableConsumer } from '../nats/streams.js';
import { backoffDelay, sleep } from '../retry.js';
import { type DeadLetterReason, PermanentEventError, publishDeadLetter } from './dead-letters.js';

const PULL_EXPIRES_MS = 5_000;
/** A retrying event is reported at `warn` on its first failure, then at most this often. */
const RETRY_LOG_INTERVAL_MS = 5_000;

export interface InboxContext {
  streamSeq: number;
  subject: string;
  deliveryCount: number;
}

export interface InboxConsumerOptions {
  nc: NatsConnection;
  orm: Orm;
  logger: Logger;
  /** Names the dead-letter subjects: `dlq.<service>.<original subject>`. */
  service: string;
  durable: DurableOptions;
  registry?: Registry;
  /**
   * Applies one event inside the transaction that also records it in the inbox. Throwing a PermanentEventError
   * sends the event to the dead-letter stream; any other error is retried until it succeeds.
   */
  handle: (em: EntityManager, event: DomainEvent, context: InboxContext) => Promise<void>;
  afterCommit?: () => void;
  /** Pauses between attempts at an event that keeps failing (capped exponential backoff with jitter). */
  retry?: { baseMs: number; maxMs: number };
  /** Makes the streams again when the server lost them (see `streamRestorer`); the consumer is then made again. */
  restoreStreams?: () => Promise<void>;
}

interface Metrics {
  applied(): void;
  duplicate(): void;
  retry(): void;
  retrying(seconds: number): void;
  deadLettered(reason: DeadLetterReason): void;
}

function consumerMetrics(registry: Registry | undefined, consumer: string): Metrics | null {
  if (!registry) return null;
  const perConsumer = (name: string, help: string, labelNames = ['consumer']) =>
    counter(registry, { name, help, labelNames });
  const applied = perConsumer('inbox_applied_total', 'Events applied');
  const duplicates = perConsumer('inbox_duplicates_total', 'Redelivered events skipped');
  const retries = perConsumer('inbox_retries_total', 'Failed attempts at an event that will be retried');
  const dead = perConsumer('inbox_dead_lettered_total', 'Events moved to the dead-letter stream', [
    'consumer',
    'reason',
  ]);
  const retrying = gauge(registry, {
    name: 'inbox_retrying_seconds',
    help: 'How long the event at the head of the consumer has been failing (0 when none is)',
    labelNames: ['consumer'],
  });
  retrying.set({ consumer }, 0);
  return {
    applied: () => applied.inc({ consumer }),
    duplicate: () => duplicates.inc({ consumer }),
    retry: () => retries.inc({ consumer }),
    retrying: (seconds) => retrying.set({ consumer }, seconds),
    deadLettered: (reason) => dead.inc({ consumer, reason }),
  };
}

/**
 * A durable JetStream consumer whose every event is applied exactly once: the event id goes into the inbox
 * table in the same transaction as its effects, and the message is acknowledged only after commit. A
 * redelivery (lost ack, restart, another instance) finds the id and is acknowledged without effect.
 *
 * An event that fails for an infrastructure reason (database, NATS, a timeout) is retried in place for as long
 * as it takes, and the message is kept ours with progress acks meanwhile: with `max_ack_pending` 1 the server
 * hands out nothing else, so no later event overtakes it. Only an event that can never be applied goes to the
 * dead-letter stream.
 */
export class InboxConsumer {
  private stopping = false;
  private readonly abort = new AbortController();
  private loop: Promise<void> | null = null;
  private messages: ConsumerMessages | null = null;
  private redrive: Subscription | null = null;
  private readonly logger: Logger;
  private readonly metrics: Metrics | null;
  /** When the event now being retried first failed. */
  private failingSince: number | null = null;
  /** The stream's creation time when this consumer was made: a new one (the server lost its storage) lacks it. */
  private streamCreated: string | null = null;

  constructor(private readonly options: InboxConsumerOptions) {
    this.logger = options.logger.child({ component: 'inbox', consumer: options.durable.name });
    this.metrics = consumerMetrics(options.registry, options.durable.name);
  }

  async start(): Promise<void> {
    const jsm = await jetstreamManager(this.options.nc);
    await ensureDurableConsumer(jsm, this.options.durable);
    this.streamCreated = (await jsm.streams.info(this.stream)).created;
    this.redrive ??= this.options.nc.subscribe(redriveSubject(this.options.durable.name), {
      queue: 'redrive',
      callback: (error, msg) => {
        if (!error) void this.answerRedrive(msg);
      },
    });
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.abort.abort();
    this.redrive?.unsubscribe();
    await this.messages?.close();
    await this.loop;
  }

  /** `/readyz` entry: degraded while an event is being retried. */
  readiness(): Record<string, ReadinessCheck> {
    return {
      [`consumer:${this.options.durable.name}`]: async () => {
        if (this.failingSince === null) return;
        const seconds = Math.round((Date.now() - this.failingSince) / 1000);
        throw new DegradedError(`an event has been failing for ${seconds} s; retrying`);
      },
    };
  }

  private async run(): Promise<void> {
    const js = jetstream(this.options.nc);
    let failures = 0;
    while (!this.stopping) {
      try {
        const consumer = await js.consumers.get(this.stream, this.options.durable.name);
        // Short pulls: after a server restart nats.js re-checks the consumer with a backoff of up to `expires`,
        // so the default 30 s would stall the saga for as long.
        // A consumer or stream that is gone (the server lost its storage) ends the pull, and is made again below:
        // by default nats.js would wait for it to come back, and nothing would ever make it.
        this.messages = await consumer.consume({
          max_messages: 32,
          expires: PULL_EXPIRES_MS,
          abort_on_missing_resource: true,
        });
        for await (const msg of this.messages) {
          await this.process(msg);
          failures = 0;
          if (this.stopping) break;
        }
      } catch (error) {
        if (this.stopping) break;
        failures++;
        this.logger.warn({ err: error, failures }, 'consumer interrupted; resuming');
        await sleep(backoffDelay(failures, 200, 5_000), this.abort.signal);
        if (!this.stopping) await this.restore();
      }
    }
  }

  private get stream(): string {
    return this.options.durable.stream ?? EVENTS_STREAM;
  }

  /**
   * A server that lost its storage lost the streams and this consumer with them: the streams are made again where
   * missing, and in a stream made anew (its creation time changed) so is this consumer, from its start. A consumer
   * deleted from the same stream stays deleted: that is an operator's `delete`, or a `reset`, which makes its own.
   * While NATS is away this fails, and the next interruption looks again.
   */
  private async restore(): Promise<void> {
    try {
      await this.options.restoreStreams?.();
      const jsm = await jetstreamManager(this.options.nc);
      const { created } = await jsm.streams.info(this.stream);
      if (created === this.streamCreated) return;
      await ensureDurableConsumer(jsm, this.options.durable);
      this.streamCreated = created;
      this.logger.warn('the stream was made anew; this consumer was made again in it');
    } catch (error) {
      this.logger.debug({ err: error }, 'could not check the stream and consumer yet');
    }
  }

  private async process(msg: JsMsg): Promise<void> {
    const decoded = decodeEvent(msg.data);
    if (!decoded.ok) {
      await this.untilDone(msg, () => this.deadLetter(msg, 'undecodable', decoded.message));
      return;
    }
    const event = decoded.event;
    const context: InboxContext = {
      streamSeq: msg.seq,
      subject: msg.subject,
      deliveryCount: msg.info.deliveryCount,
    };
    await this.untilDone(msg, async () => {
      try {
        this.settle(msg, await this.applyOnce(event, context));
      } catch (error) {
        if (!(error instanceof PermanentEventError)) throw error;
        await this.deadLetter(msg, 'permanent', error.message, event);
      }
    });
  }

  private settle(msg: JsMsg, applied: boolean): void {
    msg.ack();
    if (applied) {
      this.metrics?.applied();
      this.options.afterCommit?.();
    } else {
      this.metrics?.duplicate();
    }
  }

  private async deadLetter(msg: JsMsg, reason: DeadLetterReason, error: string, event?: DomainEvent) {
    const seq = await publishDeadLetter(this.options.nc, {
      service: this.options.service,
      consumer: this.options.durable.name,
      msg,
      reason,
      error,
    });
    this.logger.error(
      {
        subject: msg.subject,
        seq: msg.seq,
        eventId: event?.id,
        type: event?.type,
        reason,
        error,
        dlqSeq: seq,
      },
      'event can never be applied; moved to the dead-letter stream',
    );
    this.metrics?.deadLettered(reason);
    msg.term(); // no reason: NATS 2.9 ignores '+TERM <reason>' and would redeliver after ack_wait
  }

  /**
   * Runs `attempt` until it succeeds, pausing between failures, while telling the server the message is still
   * being worked on. On shutdown the message is handed back at once for another instance.
   */
  private async untilDone(msg: JsMsg, attempt: () => Promise<void>): Promise<void> {
    const ackWaitMs = this.options.durable.ackWaitMs ?? DEFAULT_ACK_WAIT_MS;
    const keepAlive = setInterval(() => {
      try {
        msg.working();
      } catch {
        // NATS is away: the message may be redelivered later, which the inbox makes harmless.
      }
    }, ackWaitMs / 3);
    let lastLog = 0;
    try {
      for (let failures = 1; ; failures++) {
        try {
          await attempt();
          return;
        } catch (error) {
          if (this.stopping) {
            msg.nak();
            return;
          }
          this.failingSince ??= Date.now();
          const retryingForMs = Date.now() - this.failingSince;
          this.metrics?.retry();
          this.metrics?.retrying(retryingForMs / 1000);
          if (failures === 1 || Date.now() - lastLog >= RETRY_LOG_INTERVAL_MS) {
            lastLog = Date.now();
            this.logger.warn(
              { err: error, subject: msg.subject, seq: msg.seq, failures, retryingForMs },
              'event failed; retrying (nothing after it is processed until it succeeds)',
            );
          }
          const { baseMs, maxMs } = this.options.retry ?? { baseMs: 250, maxMs: 30_000 };
          await sleep(backoffDelay(failures, baseMs, maxMs), this.abort.signal);
        }
      }
    } finally {
      clearInterval(keepAlive);
      if (this.failingSince !== null && !this.stopping) {
        this.logger.info(
          { subject: msg.subject, seq: msg.seq, retriedForMs: Date.now() - this.failingSince },
          'event succeeded after retrying',
        );
      }
      this.failingSince = null;
      this.metrics?.retrying(0);
    }
  }

  /** Applies a dead letter an operator redrives, through the same inbox: at most once, whatever it is sent. */
  private async answerRedrive(request: Msg): Promise<void> {
    const reply = (answer: RedriveReply) => void request.respond(JSON.stringify(answer));
    const decoded = decodeEvent(request.data);
    if (!decoded.ok) {
      reply({ outcome: 'failed', permanent: true, error: decoded.message });
      return;
    }
    const seq = Number(request.headers?.get('Dlq-Seq') || 0);
    try {
      const applied = await this.applyOutOfBand(decoded.event, {
        streamSeq: seq,
        subject: request.headers?.get('Dlq-Subject') || '',
        deliveryCount: Number(request.headers?.get('Dlq-Deliveries') || 0) + 1,
      });
      this.logger.info({ eventId: decoded.event.id, applied }, 'redriven dead letter handled');
      reply({ outcome: applied ? 'applied' : 'duplicate' });
    } catch (error) {
      reply({
        outcome: 'failed',
        permanent: error instanceof PermanentEventError,
        error: (error as Error).message,
      });
    }
  }

  /**
   * Applies an event that did not come through this consumer's subscription (a redriven dead letter, an event a
   * reconciliation found unapplied) through the same inbox: false when it was applied before.
   */
  async applyOutOfBand(event: DomainEvent, context: InboxContext): Promise<boolean> {
    const applied = await this.applyOnce(event, context);
    if (applied) {
      this.metrics?.applied();
      this.options.afterCommit?.();
    }
    return applied;
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
