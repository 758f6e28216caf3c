import {
  createEvent,
  type DomainEvent,
  subjectOf,
  type TransferEventData,
  type TransferEventType,
  type TransferLineSnapshot,
  type TransferStatus,
} from '@inv/contracts';
import { jetstream } from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';

export const SOURCE = 'wh-src';
export const DESTINATION = 'wh-dst';
let transfers = 0;

/** A transfer as the transfer service describes it in its events: the whole snapshot after each transition. */
export function newTransfer(lines: { productId: string; quantity: number }[]) {
  transfers++;
  const transferId = `t-${Date.now().toString(36)}-${transfers}`;
  let version = 1;
  const snapshot = (
    status: TransferStatus,
    lineChanges: Partial<TransferLineSnapshot>[] = [],
  ): TransferEventData => ({
    transferId,
    sourceWarehouseId: SOURCE,
    destinationWarehouseId: DESTINATION,
    status,
    previousStatus: null,
    reservationStatus: 'pending',
    version: ++version,
    lines: lines.map((line, i) => ({
      lineId: `l${i + 1}`,
      productId: line.productId,
      variantId: null,
      uomId: null,
      quantity: line.quantity,
      shippedQuantity: null,
      receivedQuantity: null,
      discrepancy: null,
      ...lineChanges[i],
    })),
    actor: 'manager-1',
    reason: null,
    timestamp: new Date().toISOString(),
  });
  const event = (
    type: TransferEventType,
    status: TransferStatus,
    lineChanges?: Partial<TransferLineSnapshot>[],
  ) => {
    const data = snapshot(status, lineChanges);
    return createEvent(type, data, {
      aggregate: { type: 'transfer', id: transferId, version: data.version },
      correlationId: `corr-${transferId}`,
    });
  };
  return { transferId, event };
}

/** Publishes like the transfer service's relay (message id = event id). */
export async function publishEvent(nc: NatsConnection, event: DomainEvent): Promise<number> {
  const ack = await jetstream(nc).publish(subjectOf(event), JSON.stringify(event), { msgID: event.id });
  return ack.seq;
}
