import { randomUUID } from 'node:crypto';
import {
  type AccessClaims,
  ALL_WAREHOUSES,
  canSeeWarehouse,
  DomainError,
  EVENTS_STREAM,
} from '@inv/contracts';
import { isStreamNotFound } from '@inv/platform';
import { DeliverPolicy, type JetStreamManager, jetstream, jetstreamManager } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { deliverOnce } from '../../app/deliver.js';
import { createWebhookMetrics, type WebhookMetrics } from '../../app/metrics.js';
import type { Endpoint } from '../../domain/endpoint.js';
import { endpointResumedEvent } from '../../domain/endpoint-events.js';
import { checkWebhookUrl } from '../../domain/url.js';
import type { DeadLetter, DeadLetterOutcome, TransitionResult, WebhookStore } from '../db/store.js';
import {
  consumerNameOf,
  deleteEndpointConsumer,
  EndpointWorker,
  ensureEndpointConsumer,
  isConsumerNotFound,
  type WorkerSettings,
} from './endpoint-worker.js';

export interface RegisterEndpoint {
  url: string;
  eventTypes: string[];
  warehouses: string[];
  secret: string;
}

/** What the API shows of an endpoint: never its secret. */
export type PublicEndpoint = Omit<Endpoint, 'secret'>;
export const publicEndpoint = ({ secret: _, ...rest }: Endpoint): PublicEndpoint => rest;

/** Who resumes an endpoint: the admin's token subject and the request's correlation id. */
export interface ResumeMeta {
  actor: string;
  correlationId?: string | null;
}

/**
 * Registration, one worker per active endpoint, pause/resume and dead-letter redrive.
 *
 * Several instances may run: each follows the database every `syncMs` (workers for the active endpoints, none for
 * paused or deleted ones), so an endpoint registered or resumed on one instance is served by the others too and a
 * pause or deletion on one stops the others' workers. The endpoint's durable consumer hands out one event at a
 * time (max_ack_pending 1), so workers of several instances still deliver in order.
 */
export class WebhookBridge {
  private readonly workers = new Map<string, EndpointWorker>();
  private readonly metrics: WebhookMetrics;
  private jsm!: JetStreamManager;
  private timer: NodeJS.Timeout | null = null;
  private syncing: Promise<void> | null = null;
  /** The EVENTS stream's creation time at the last pass. */
  private streamCreated: string | null = null;

  constructor(
    private readonly deps: {
      nc: NatsConnection;
      store: WebhookStore;
      logger: Logger;
      registry: Registry;
      settings: WorkerSettings;
      /** Wakes the outbox relay after a pause or resume commits, so its event goes out at once. */
      notify: () => void;
      /** How often the workers are matched to the endpoints in the database (other instances' changes). */
      syncMs: number;
    },
  ) {
    this.metrics = createWebhookMetrics(
      deps.registry,
      () => this.lag(),
      () => this.workers.size,
    );
  }

  private get ackWaitMs() {
    return this.deps.settings.timeoutMs + 5_000;
  }

  async start(): Promise<void> {
    this.jsm = await jetstreamManager(this.deps.nc);
    // At start an active endpoint whose consumer is gone (a stream restored without it) gets a new one, as at
    // registration; later passes leave that to registration, so a deletion elsewhere is never undone.
    await this.sync({ createConsumers: true });
    this.timer = setInterval(
      () =>
        void this.sync({ createConsumers: false }).catch((error: unknown) =>
          this.deps.logger.warn({ err: error }, 'webhook endpoint sync failed'),
        ),
      this.deps.syncMs,
    );
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.syncing?.catch(() => undefined); // a failed pass was logged by its caller
    await Promise.all([...this.workers.values()].map((w) => w.stop()));
    this.workers.clear();
  }

  /** Runs a worker for every active endpoint and none for the others; one pass at a time. */
  private sync(options: { createConsumers: boolean }): Promise<void> {
    this.syncing ??= this.syncOnce(options).finally(() => {
      this.syncing = null;
    });
    return this.syncing;
  }

  private async syncOnce(options: { createConsumers: boolean }): Promise<void> {
    const created = await this.eventsStreamCreated();
    // A new stream (the server lost its storage) lost every endpoint's consumer, and no registration will make them
    // again. Not a deletion of one consumer, which is never undone.
    const remade = created !== null && this.streamCreated !== null && created !== this.streamCreated;
    if (remade)
      this.deps.logger.warn('the EVENTS stream was made anew; making every active endpoint consumer again');
    const endpoints = await this.deps.store.listEndpoints();
    const active = new Set<string>();
    for (const endpoint of endpoints) {
      if (endpoint.state !== 'active') continue;
      active.add(endpoint.endpointId);
      // Everything in a stream made anew came after the loss: the endpoint gets it all, from its start.
      if (remade)
        await ensureEndpointConsumer(this.jsm, endpoint.endpointId, this.ackWaitMs, DeliverPolicy.All);
      if (this.workers.has(endpoint.endpointId)) continue;
      if (options.createConsumers || (await this.consumerExists(endpoint.endpointId)))
        await this.startWorker(endpoint);
    }
    for (const endpointId of [...this.workers.keys()]) {
      if (!active.has(endpointId)) await this.stopWorker(endpointId);
    }
    // Only once every consumer is made again: a pass that failed half-way makes the rest at the next one.
    if (created !== null) this.streamCreated = created;
  }

  /** Confines the warehouses to the admin's claims: an endpoint never receives what its registrant cannot see. */
  async register(input: RegisterEndpoint, claims: AccessClaims, allowPrivate: boolean): Promise<Endpoint> {
    const url = checkWebhookUrl(input.url, allowPrivate);
    if (!url.ok) throw new DomainError('VALIDATION_FAILED', `url ${url.message}`, {}, 'url');
    for (const warehouse of input.warehouses) {
      const allowed =
        warehouse === ALL_WAREHOUSES
          ? claims.warehouses.includes(ALL_WAREHOUSES)
          : canSeeWarehouse(claims, warehouse);
      if (!allowed) {
        throw new DomainError(
          'FORBIDDEN',
          `no access to warehouse ${warehouse}`,
          { warehouse },
          'warehouses',
        );
      }
    }
    const endpointId = randomUUID();
    await ensureEndpointConsumer(this.jsm, endpointId, this.ackWaitMs);
    const endpoint = await this.deps.store.insertEndpoint({
      endpointId,
      url: url.url.toString(),
      eventTypes: [...new Set(input.eventTypes)],
      warehouses: [...new Set(input.warehouses)],
      secret: input.secret,
      createdBy: claims.sub,
    });
    await this.startWorker(endpoint);
    return endpoint;
  }

  async remove(endpointId: string): Promise<boolean> {
    await this.stopWorker(endpointId);
    const removed = await this.deps.store.deleteEndpoint(endpointId);
    await deleteEndpointConsumer(this.jsm, endpointId);
    return removed;
  }

  /** A worker stopped: its endpoint was paused (now, by this dead letter, or before a crash) or deleted. */
  private stopped(endpointId: string, outcome: DeadLetterOutcome): void {
    this.workers.delete(endpointId);
    if (!outcome.pausedNow || !outcome.endpoint) return;
    const { pausedReason: reason, consecutiveDeadLetters: failures } = outcome.endpoint;
    this.deps.notify();
    this.metrics.paused.inc({ endpoint: endpointId });
    this.deps.logger.warn({ endpointId, reason, failures }, 'webhook endpoint paused');
  }

  /**
   * Resumes a paused endpoint where its consumer stopped: nothing it missed while paused is lost. The resume and
   * the `webhooks.endpoint_resumed` event commit together.
   */
  async resume(endpointId: string, meta: ResumeMeta): Promise<Endpoint> {
    const at = new Date();
    const result: TransitionResult = await this.deps.store.transition(
      endpointId,
      'active',
      { reason: null, at },
      (before, resumed) => ({
        ...endpointResumedEvent(before, resumed, meta.actor, at),
        correlationId: meta.correlationId ?? null,
      }),
    );
    if (result.outcome === 'not_found') {
      throw new DomainError('NOT_FOUND', `no webhook endpoint ${endpointId}`, {}, 'endpointId');
    }
    if (result.outcome === 'refused') {
      const { state } = result.before;
      throw new DomainError('INVALID_TRANSITION', `endpoint is ${state}`, { state });
    }
    this.deps.notify();
    await this.startWorker(result.after);
    return result.after;
  }

  /** Sends one dead letter again, now; it leaves the list only when the endpoint accepts it. */
  async redrive(endpointId: string, deadLetterId: string): Promise<{ delivered: boolean; error?: string }> {
    const endpoint = await this.require(endpointId);
    const letter = (await this.deps.store.listDeadLetters(endpointId)).find(
      (d) => d.deadLetterId === deadLetterId,
    );
    if (!letter) throw new DomainError('NOT_FOUND', `no dead letter ${deadLetterId}`, {}, 'deadLetterId');
    const result = await deliverOnce(
      {
        url: endpoint.url,
        secret: endpoint.secret,
        eventId: letter.eventId,
        eventType: letter.eventType,
        body: letter.body,
      },
      { timeoutMs: this.deps.settings.timeoutMs, allowPrivate: this.deps.settings.allowPrivate },
    );
    if (!result.ok) return { delivered: false, error: result.error };
    await this.deps.store.removeDeadLetter(endpointId, deadLetterId);
    this.metrics.deliveries.inc({ endpoint: endpointId });
    return { delivered: true };
  }

  list(): Promise<Endpoint[]> {
    return this.deps.store.listEndpoints();
  }

  async deadLetters(endpointId: string): Promise<DeadLetter[]> {
    await this.require(endpointId);
    return this.deps.store.listDeadLetters(endpointId);
  }

  async require(endpointId: string): Promise<Endpoint> {
    const endpoint = await this.deps.store.getEndpoint(endpointId);
    if (!endpoint) throw new DomainError('NOT_FOUND', `no webhook endpoint ${endpointId}`, {}, 'endpointId');
    return endpoint;
  }

  private async startWorker(endpoint: Endpoint): Promise<void> {
    if (this.workers.has(endpoint.endpointId)) return;
    await ensureEndpointConsumer(this.jsm, endpoint.endpointId, this.ackWaitMs);
    const worker = new EndpointWorker(endpoint, {
      js: jetstream(this.deps.nc),
      store: this.deps.store,
      metrics: this.metrics,
      logger: this.deps.logger,
      settings: this.deps.settings,
      onStopped: (id, outcome) => this.stopped(id, outcome),
    });
    this.workers.set(endpoint.endpointId, worker);
    worker.start();
  }

  private async stopWorker(endpointId: string): Promise<void> {
    const worker = this.workers.get(endpointId);
    this.workers.delete(endpointId);
    await worker?.stop();
  }

  /** The EVENTS stream's creation time; null while it is missing (the services' relays and consumers make it). */
  private async eventsStreamCreated(): Promise<string | null> {
    try {
      return (await this.jsm.streams.info(EVENTS_STREAM)).created;
    } catch (error) {
      if (isStreamNotFound(error)) return null;
      throw error;
    }
  }

  private async consumerExists(endpointId: string): Promise<boolean> {
    try {
      await this.jsm.consumers.info(EVENTS_STREAM, consumerNameOf(endpointId));
      return true;
    } catch (error) {
      if (isConsumerNotFound(error)) return false;
      throw error;
    }
  }

  /** Events each endpoint has not handled yet: pending in its consumer plus the one in flight. */
  private async lag(): Promise<Map<string, number>> {
    const lag = new Map<string, number>();
    for (const endpoint of await this.deps.store.listEndpoints()) {
      try {
        const info = await this.jsm.consumers.info(EVENTS_STREAM, consumerNameOf(endpoint.endpointId));
        lag.set(endpoint.endpointId, info.num_pending + info.num_ack_pending);
      } catch {
        // a consumer deleted under us has no lag to report
      }
    }
    return lag;
  }
}
