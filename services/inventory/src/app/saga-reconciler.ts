import {
  DURABLE_CONSUMERS,
  decodeEvent,
  EVENTS_STREAM,
  type TransferEventType,
  transferSubject,
} from '@inv/contracts';
import { counter, type InboxConsumer, type Orm, PeriodicJob, type Worker } from '@inv/platform';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { findOpenSagas, inboxHas, type OpenSaga } from '../infra/db/open-sagas.js';

/** The transfer events that would move an open saga on. */
const NEXT_EVENTS: Record<OpenSaga['state'], TransferEventType[]> = {
  reserved: ['transfer.cancelled', 'transfer.rejected', 'transfer.shipped', 'transfer.received'],
  shipped: ['transfer.received'],
};
const SAGAS_PER_RUN = 1_000;
const CONSUMER = DURABLE_CONSUMERS.inventoryTransfers.name;

/** The part of JetStream the reconciler reads (the `JetStreamManager` of `@nats-io/jetstream` fits). */
export interface SagaStreamView {
  consumers: {
    info(stream: string, consumer: string): Promise<{ ack_floor: { stream_seq: number } }>;
  };
  streams: {
    getMessage(
      stream: string,
      query: { last_by_subj: string },
    ): Promise<{ seq: number; subject: string; data: Uint8Array } | null>;
  };
}

export interface SagaReconcilerOptions {
  orm: Orm;
  jsm: () => Promise<SagaStreamView>;
  consumer: InboxConsumer;
  logger: Logger;
  registry?: Registry;
  /** 0 turns the periodic run off. */
  intervalMs: number;
}

/**
 * Inventory's own reconciliation: for every saga still waiting (reserved or shipped), looks in the stream for a
 * later event of its transfer that the saga consumer has already gone past (its ack floor) without it being in
 * the inbox — an event dropped on the way — and applies it through the same inbox, so it happens once. Events
 * no longer in the stream are beyond it: `invctl reconcile transfers` compares with the transfer database.
 */
export class SagaReconciler implements Worker {
  private readonly repaired: (() => void) | undefined;
  private readonly job: PeriodicJob;

  constructor(private readonly o: SagaReconcilerOptions) {
    if (o.registry) {
      const repairs = counter(o.registry, {
        name: 'saga_reconcile_repairs_total',
        help: 'Dropped transfer events found and applied by reconciliation',
      });
      this.repaired = () => repairs.inc();
    }
    this.job = new PeriodicJob({
      run: () => this.runOnce(),
      intervalMs: o.intervalMs,
      logger: o.logger,
      failureMessage: 'saga reconciliation failed',
    });
  }

  start(): void {
    this.job.start();
  }

  stop(): Promise<void> {
    return this.job.stop();
  }

  /** Returns the ids of the events it applied. */
  async runOnce(): Promise<string[]> {
    const jsm = await this.o.jsm();
    const ackFloor = (await jsm.consumers.info(EVENTS_STREAM, CONSUMER)).ack_floor.stream_seq;
    const applied: string[] = [];
    for (const saga of await findOpenSagas(this.o.orm.em.fork(), SAGAS_PER_RUN)) {
      for (const type of NEXT_EVENTS[saga.state]) {
        const stored = await jsm.streams
          .getMessage(EVENTS_STREAM, { last_by_subj: transferSubject(saga, type) })
          .catch(() => null);
        // Beyond the ack floor the consumer has not got to it yet: not dropped.
        if (!stored || stored.seq > ackFloor) continue;
        const decoded = decodeEvent(stored.data);
        if (!decoded.ok || decoded.event.aggregate.version <= saga.transferVersion) continue;
        if (await inboxHas(this.o.orm.em.fork(), CONSUMER, decoded.event.id)) continue;
        const context = { streamSeq: stored.seq, subject: stored.subject, deliveryCount: 0 };
        if (await this.o.consumer.applyOutOfBand(decoded.event, context)) {
          applied.push(decoded.event.id);
          this.repaired?.();
          this.o.logger.warn(
            {
              transferId: saga.transferId,
              eventId: decoded.event.id,
              type,
              seq: stored.seq,
              sagaState: saga.state,
            },
            'applied a transfer event the saga consumer had passed without applying',
          );
        }
        break;
      }
    }
    return applied;
  }
}
