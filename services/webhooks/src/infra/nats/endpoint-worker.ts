import { decodeEvent, EVENTS_STREAM } from '@inv/contracts';
import { sleep } from '@inv/platform';
import {
  AckPolicy,
  DeliverPolicy,
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import { deliverOnce } from '../../app/deliver.js';
import type { WebhookMetrics } from '../../app/metrics.js';
import { type Endpoint, endpointWants } from '../../domain/endpoint.js';
import { endpointPausedEvent } from '../../domain/endpoint-events.js';
import { afterFailure, type RetryPolicy } from '../../domain/retry.js';
import type { DeadLetterOutcome, WebhookStore } from '../db/store.js';

export interface WorkerSettings {
  retry: RetryPolicy;
  timeoutMs: number;
  allowPrivate: boolean;
  /** Consecutive dead-lettered events after which the endpoint is paused (the run is kept in the database). */
  pauseAfterDeadLetters: number;
}

export const consumerNameOf = (endpointId: string) => `webhook-${endpointId}`;

const CONSUMER_NOT_FOUND = 10014;

export const isConsumerNotFound = (error: unknown) =>
  error instanceof JetStreamApiError && error.code === CONSUMER_NOT_FOUND;

/**
 * The durable consumer that holds an endpoint's delivery state: its position in the stream and, for the event in
 * flight, the delivery count. One message at a time (max_ack_pending 1) keeps the endpoint's order; the whole
 * stream is its filter (one filter per consumer on NATS 2.9) and the event types and warehouses are checked here.
 */
export async function ensureEndpointConsumer(
  jsm: JetStreamManager,
  endpointId: string,
  ackWaitMs: number,
  /** From registration on (`New`): an endpoint is not sent the stream's history; `All` for a stream made anew. */
  deliverPolicy: DeliverPolicy = DeliverPolicy.New,
) {
  const name = consumerNameOf(endpointId);
  try {
    await jsm.consumers.info(EVENTS_STREAM, name);
  } catch (error) {
    if (!isConsumerNotFound(error)) throw error;
    await jsm.consumers.add(EVENTS_STREAM, {
      durable_name: name,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: deliverPolicy,
      ack_wait: nanos(ackWaitMs),
      max_deliver: -1,
      max_ack_pending: 1,
    });
  }
}

export async function deleteEndpointConsumer(jsm: JetStreamManager, endpointId: string): Promise<void> {
  try {
    await jsm.consumers.delete(EVENTS_STREAM, consumerNameOf(endpointId));
  } catch (error) {
    if (!isConsumerNotFound(error)) throw error;
  }
}

/** Delivers one endpoint's events in stream order until stopped or paused. */
export class EndpointWorker {
  private readonly abort = new AbortController();
  private loop: Promise<void> | null = null;
  /** The endpoint's run of dead letters as last written, so a delivery writes only to end a run. */
  private consecutiveDeadLetters: number;

  constructor(
    private endpoint: Endpoint,
    private readonly deps: {
      js: JetStreamClient;
      store: WebhookStore;
      metrics: WebhookMetrics;
      logger: Logger;
      settings: WorkerSettings;
      /** This worker stopped because the endpoint is paused (by `outcome`, or earlier) or deleted. */
      onStopped: (endpointId: string, outcome: DeadLetterOutcome) => void;
    },
  ) {
    this.consecutiveDeadLetters = endpoint.consecutiveDeadLetters;
  }

  start(): void {
    this.loop ??= this.run();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    await this.loop;
  }

  private async run(): Promise<void> {
    const { js, logger } = this.deps;
    const log = logger.child({ endpointId: this.endpoint.endpointId });
    let failures = 0;
    while (!this.abort.signal.aborted) {
      try {
        const consumer = await js.consumers.get(EVENTS_STREAM, consumerNameOf(this.endpoint.endpointId));
        while (!this.abort.signal.aborted) {
          const msg = await consumer.next({ expires: 2_000 });
          if (!msg) continue;
          failures = 0;
          if ((await this.handle(msg, log)) === 'paused') return;
        }
      } catch (error) {
        if (this.abort.signal.aborted) return;
        failures++;
        log.warn({ err: error }, 'webhook consumer failed; retrying');
        await sleep(Math.min(5_000, 200 * 2 ** failures), this.abort.signal);
      }
    }
  }

  private async handle(msg: JsMsg, log: Logger): Promise<'next' | 'paused'> {
    const { metrics, settings, store } = this.deps;
    const endpointId = this.endpoint.endpointId;
    const decoded = decodeEvent(msg.data);
    if (!decoded.ok) {
      log.error({ seq: msg.seq, reason: decoded.reason }, 'undecodable event skipped by webhook endpoint');
      msg.ack();
      return 'next';
    }
    const event = decoded.event;
    if (!endpointWants(this.endpoint, event)) {
      msg.ack();
      return 'next';
    }
    const body = JSON.stringify(event);
    const attempt = msg.info.deliveryCount;
    const result = await deliverOnce(
      {
        url: this.endpoint.url,
        secret: this.endpoint.secret,
        eventId: event.id,
        eventType: event.type,
        body,
      },
      { timeoutMs: settings.timeoutMs, allowPrivate: settings.allowPrivate, signal: this.abort.signal },
    );
    if (this.abort.signal.aborted && !result.ok) return 'next'; // unacked: redelivered after ack_wait
    if (result.ok) {
      // Before the ack: a crash in between delivers again and ends the run again, never leaves it standing.
      if (this.consecutiveDeadLetters > 0) await store.endDeadLetterRun(endpointId);
      this.consecutiveDeadLetters = 0;
      msg.ack();
      metrics.deliveries.inc({ endpoint: endpointId });
      return 'next';
    }
    metrics.failures.inc({ endpoint: endpointId });
    const decision = afterFailure(settings.retry, attempt);
    if (decision.action === 'retry') {
      log.info(
        { eventId: event.id, attempt, delayMs: decision.delayMs, error: result.error },
        'webhook retry',
      );
      msg.nak(decision.delayMs);
      return 'next';
    }
    // Recorded (and counted, and the endpoint paused when the run is long enough) before the ack: a crash in
    // between re-runs this, and the store neither lists nor counts an event twice.
    const outcome = await store.addDeadLetter(
      {
        endpointId,
        eventId: event.id,
        eventType: event.type,
        streamSequence: msg.seq,
        body,
        attempts: attempt,
        lastError: result.error,
      },
      settings.pauseAfterDeadLetters,
      (paused, at) => endpointPausedEvent(paused, paused.consecutiveDeadLetters, at),
    );
    msg.ack();
    metrics.deadLetters.inc({ endpoint: endpointId });
    log.warn({ eventId: event.id, attempts: attempt, error: result.error }, 'webhook event dead-lettered');
    this.consecutiveDeadLetters = outcome.endpoint?.consecutiveDeadLetters ?? 0;
    if (outcome.endpoint?.state === 'active') return 'next';
    this.deps.onStopped(endpointId, outcome);
    return 'paused';
  }
}
