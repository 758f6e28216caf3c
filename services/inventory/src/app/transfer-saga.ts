import {
  createEvent,
  type DomainEvent,
  type EventMeta,
  newEventId,
  TRANSFER_EVENT_TYPES,
  type TransferEventData,
  type TransferEventType,
  type TransferLineSnapshot,
} from '@inv/contracts';
import { appendToOutbox } from '@inv/platform';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import { type MovementContext, newRecord, RecordChangeSet, type StockRecord } from '../domain/record.js';
import { deltas } from '../domain/stock.js';
import {
  decideSagaSteps,
  discrepancyReason,
  planReceipt,
  planShipment,
  type SagaState,
  type SagaStep,
  shortagesOf,
  stockKeyOfLine,
  stockKeyString,
} from '../domain/transfer-saga.js';
import { TransferReservationRow } from '../infra/db/entities.js';
import { findRecordsByIds, findRecordsByKeys } from '../infra/db/records.js';
import {
  findReservations,
  findSaga,
  insertReservations,
  saveSaga,
  updateReservation,
} from '../infra/db/sagas.js';
import { bookChanges } from './ledger.js';

type TransferEvent = Extract<DomainEvent, { type: TransferEventType }>;

function isTransferEvent(event: DomainEvent): event is TransferEvent {
  return (TRANSFER_EVENT_TYPES as string[]).includes(event.type);
}

/** The changes of one saga step, grouped per record so each record is written once. */
class ChangeSets {
  private readonly sets = new Map<string, RecordChangeSet>();

  /** The change set of a record; `isNew` when the record was made up here and must be inserted. */
  for(record: StockRecord, isNew = false): RecordChangeSet {
    let set = this.sets.get(record.inventoryId);
    if (!set) {
      set = new RecordChangeSet(isNew ? null : record, record);
      this.sets.set(record.inventoryId, set);
    }
    return set;
  }

  async book(em: EntityManager): Promise<void> {
    for (const set of this.sets.values()) if (set.entries.length > 0) await bookChanges(em, set);
  }
}

interface StepInput {
  em: EntityManager;
  event: TransferEvent;
  transfer: TransferEventData;
}

/**
 * Inventory's part of the transfer saga, applied by the inbox consumer inside the transaction that records the
 * event as processed: reserve at the source on approval (all lines or none), ship out on shipment, receive in
 * at the destination, release on cancellation or rejection. Answers go out through the outbox.
 */
export class TransferSagaHandler {
  private readonly steps: Record<SagaStep, (input: StepInput) => Promise<SagaState>> = {
    reserve: (input) => this.reserve(input),
    ship: (input) => this.ship(input),
    receive: (input) => this.receive(input),
    release: (input) => this.release(input),
    close: async () => 'closed',
  };

  constructor(private readonly logger: Logger) {}

  readonly handle = async (em: EntityManager, event: DomainEvent): Promise<void> => {
    if (!isTransferEvent(event)) return;
    const transfer = event.data;
    const saga = await findSaga(em, transfer.transferId);
    const decision = decideSagaSteps(event.type, transfer.version, saga);
    if ('ignore' in decision) {
      this.logger.debug(
        { transferId: transfer.transferId, type: event.type, why: decision.ignore },
        'no stock step',
      );
      return;
    }
    let state: SagaState | undefined = saga?.state;
    for (const step of decision.apply) state = await this.steps[step]({ em, event, transfer });
    await saveSaga(
      em,
      {
        transferId: transfer.transferId,
        sourceWarehouseId: transfer.sourceWarehouseId,
        destinationWarehouseId: transfer.destinationWarehouseId,
        state: state!,
        transferVersion: transfer.version,
      },
      saga === null,
    );
  };

  private context(input: StepInput, reason: string, line?: { lineId: string }): MovementContext {
    return {
      actor: input.transfer.actor,
      reason,
      source: 'transfer',
      correlationId: input.event.correlationId ?? input.event.id,
      causationId: input.event.id,
      transferId: input.transfer.transferId,
      transferLineId: line?.lineId ?? null,
    };
  }

  private answerMeta(input: StepInput): EventMeta {
    return {
      aggregate: { type: 'transfer', id: input.transfer.transferId, version: input.transfer.version },
      correlationId: input.event.correlationId ?? input.event.id,
      causationId: input.event.id,
    };
  }

  /** All lines or none: a short line fails the whole reservation and nothing is held. */
  private async reserve(input: StepInput): Promise<SagaState> {
    const { em, transfer } = input;
    const source = transfer.sourceWarehouseId;
    const records = await findRecordsByKeys(
      em,
      transfer.lines.map((line) => stockKeyOfLine(line, source)),
    );
    const byKey = new Map(records.map((r) => [stockKeyString(r), r]));
    const recordOf = (line: TransferLineSnapshot) => byKey.get(stockKeyString(stockKeyOfLine(line, source)));
    const timestamp = new Date().toISOString();
    const shortages = shortagesOf(transfer, (key) => byKey.get(stockKeyString(key))?.levels.available ?? 0);
    if (shortages.length > 0) {
      const failed = createEvent(
        'inventory.reservation_failed',
        {
          transferId: transfer.transferId,
          warehouseId: source,
          reason: 'INSUFFICIENT_STOCK',
          shortages,
          timestamp,
        },
        this.answerMeta(input),
      );
      await appendToOutbox(em, [failed]);
      return 'failed';
    }
    const changes = new ChangeSets();
    const reservations = transfer.lines.map((line) => {
      const record = recordOf(line)!;
      changes
        .for(record)
        .apply(
          deltas.reserve(line.quantity),
          this.context(input, `transfer ${transfer.transferId} approved`, line),
        );
      return Object.assign(new TransferReservationRow(), {
        transferId: transfer.transferId,
        lineId: line.lineId,
        inventoryId: record.inventoryId,
        quantity: line.quantity,
        status: 'reserved',
        shippedQuantity: null,
        receivedQuantity: null,
        destinationInventoryId: null,
        updatedAt: new Date(),
      });
    });
    await changes.book(em);
    await insertReservations(em, reservations);
    const reserved = createEvent(
      'inventory.reserved',
      {
        transferId: transfer.transferId,
        warehouseId: source,
        lines: transfer.lines.map((line) => ({
          lineId: line.lineId,
          inventoryId: recordOf(line)!.inventoryId,
          productId: line.productId,
          variantId: line.variantId,
          uomId: line.uomId,
          quantity: line.quantity,
        })),
        timestamp,
      },
      this.answerMeta(input),
    );
    await appendToOutbox(em, [reserved]);
    return 'reserved';
  }

  /** The reservation leaves with the goods; what was reserved but not shipped goes back to available. */
  private async ship(input: StepInput): Promise<SagaState> {
    const { em, transfer } = input;
    const reservations = await findReservations(em, transfer.transferId, 'reserved');
    const records = await recordsById(
      em,
      reservations.map((r) => r.inventoryId),
    );
    const changes = new ChangeSets();
    for (const reservation of reservations) {
      const line = transfer.lines.find((l) => l.lineId === reservation.lineId);
      const plan = planShipment(reservation.quantity, line?.shippedQuantity ?? null);
      const set = changes.for(records.get(reservation.inventoryId)!);
      set.apply(
        deltas.shipOut(plan.fromReserved, plan.beyondReservation),
        this.context(input, `transfer ${transfer.transferId} shipped ${plan.shipped}`, reservation),
      );
      if (plan.released > 0) {
        set.apply(
          deltas.release(plan.released),
          this.context(
            input,
            `transfer ${transfer.transferId}: ${plan.released} reserved but not shipped`,
            reservation,
          ),
        );
      }
      await updateReservation(em, {
        ...keyOf(reservation),
        status: 'shipped',
        shippedQuantity: plan.shipped,
      });
    }
    await changes.book(em);
    return 'shipped';
  }

  /** Goods arrive at the destination (its record is created if needed); a shortfall is noted in the ledger. */
  private async receive(input: StepInput): Promise<SagaState> {
    const { em, transfer } = input;
    const destination = transfer.destinationWarehouseId;
    const shippedLines = new Map(
      (await findReservations(em, transfer.transferId, 'shipped')).map((r) => [r.lineId, r]),
    );
    const keys = transfer.lines.map((line) => stockKeyOfLine(line, destination));
    const existing = new Map((await findRecordsByKeys(em, keys)).map((r) => [stockKeyString(r), r]));
    const changes = new ChangeSets();
    const received: Parameters<typeof updateReservation>[1][] = [];
    const now = new Date();
    for (const line of transfer.lines) {
      const key = stockKeyOfLine(line, destination);
      const known = existing.get(stockKeyString(key));
      const record = known ?? newRecord(newEventId(now.getTime()), key, now);
      existing.set(stockKeyString(key), record);
      const reservation = shippedLines.get(line.lineId);
      const shipped = reservation?.shippedQuantity ?? line.shippedQuantity ?? line.quantity;
      const plan = planReceipt(shipped, line.receivedQuantity);
      const set = changes.for(record, !known);
      set.apply(
        deltas.receiveIn(plan.received),
        this.context(input, `transfer ${transfer.transferId} received ${plan.received}`, line),
      );
      if (plan.difference !== 0) {
        set.apply(
          deltas.discrepancy(),
          this.context(input, discrepancyReason(transfer.transferId, shipped, plan), line),
        );
      }
      if (reservation) {
        received.push({
          ...keyOf(reservation),
          status: 'received',
          receivedQuantity: plan.received,
          destinationInventoryId: record.inventoryId,
        });
      }
    }
    // After booking: a reservation may point at a destination record this step creates.
    await changes.book(em);
    for (const update of received) await updateReservation(em, update);
    return 'received';
  }

  private async release(input: StepInput): Promise<SagaState> {
    const { em, transfer, event } = input;
    const reservations = await findReservations(em, transfer.transferId, 'reserved');
    const records = await recordsById(
      em,
      reservations.map((r) => r.inventoryId),
    );
    const changes = new ChangeSets();
    const verb = event.type === 'transfer.rejected' ? 'rejected' : 'cancelled';
    for (const reservation of reservations) {
      changes
        .for(records.get(reservation.inventoryId)!)
        .apply(
          deltas.release(reservation.quantity),
          this.context(input, `transfer ${transfer.transferId} ${verb}`, reservation),
        );
      await updateReservation(em, { ...keyOf(reservation), status: 'released' });
    }
    await changes.book(em);
    return 'released';
  }
}

function keyOf(reservation: TransferReservationRow) {
  return { transferId: reservation.transferId, lineId: reservation.lineId };
}

async function recordsById(em: EntityManager, ids: string[]): Promise<Map<string, StockRecord>> {
  const records = await findRecordsByIds(em, [...new Set(ids)]);
  return new Map(records.map((r) => [r.inventoryId, r]));
}
