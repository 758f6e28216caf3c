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
import { type Endpoint, endpointWants } from '../domain/endpoint.js';
import { afterFailure, type RetryPolicy } from '../domain/retry.js';
import type { WebhookStore } from '../infra/db/store.js';
import { deliverOnce } from './deliver.js';
import type { WebhookMetrics } from './metrics.js';

export interface WorkerSettings {
  retry: RetryPolicy;
  timeoutMs: number;
  allowPrivate: boolean;
  /** Consecutive dead-lettered events after which the endpoint is paused. */
  pauseAfterDeadLetters: number;
}

export const consumerNameOf = (endpointId: string) => `webhook-${endpointId}`;

const CONSUMER_NOT_FOUND = 10014;

/**
 * The durable consumer that holds an endpoint's delivery state: its position in the stream and, for the event in
 * flight, the delivery count. One message at a time (max_ack_pending 1) keeps the endpoint's order; the whole
 * stream is its filter (one filter per consumer on NATS 2.9) and the event types and warehouses are checked here.
 */
export async function ensureEndpointConsumer(jsm: JetStreamManager, endpointId: string, ackWaitMs: number) {
  const name = consumerNameOf(endpointId);
  try {
    await jsm.consumers.info(EVENTS_STREAM, name);
  } catch (error) {
    if (!(error instanceof JetStreamApiError && error.code === CONSUMER_NOT_FOUND)) throw error;
    await jsm.consumers.add(EVENTS_STREAM, {
      durable_name: name,
      ack_policy: AckPolicy.Explicit,
      // From registration on: an endpoint is not sent the stream's history.
      deliver_policy: DeliverPolicy.New,
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
    if (!(error instanceof JetStreamApiError && error.code === CONSUMER_NOT_FOUND)) throw error;
  }
}

/** Delivers one endpoint's events in stream order until stopped or paused. */
export class EndpointWorker {
  private readonly abort = new AbortController();
  private loop: Promise<void> | null = null;
  private consecutiveDeadLetters = 0;

  constructor(
    private endpoint: Endpoint,
    private readonly deps: {
      js: JetStreamClient;
      store: WebhookStore;
      metrics: WebhookMetrics;
      logger: Logger;
      settings: WorkerSettings;
      /** Pauses the endpoint and publishes that it did (the bridge); false if it was no longer active. */
      pause: (endpointId: string, failures: number) => Promise<boolean>;
    },
  ) {}

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
      msg.ack();
      this.consecutiveDeadLetters = 0;
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
    // Recorded before the ack: a crash in between re-runs this, and the insert is idempotent per event id.
    await store.addDeadLetter({
      endpointId,
      eventId: event.id,
      eventType: event.type,
      streamSequence: msg.seq,
      body,
      attempts: attempt,
      lastError: result.error,
    });
    msg.ack();
    metrics.deadLetters.inc({ endpoint: endpointId });
    log.warn({ eventId: event.id, attempts: attempt, error: result.error }, 'webhook event dead-lettered');
    this.consecutiveDeadLetters++;
    if (this.consecutiveDeadLetters >= settings.pauseAfterDeadLetters) {
      // Either way this worker is done: paused now, or the endpoint was deleted under it.
      await this.deps.pause(endpointId, this.consecutiveDeadLetters);
      return 'paused';
    }
    return 'next';
  }
}
