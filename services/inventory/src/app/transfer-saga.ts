import {
  createEvent,
  type DomainEvent,
  type EventMeta,
  type StockKey,
  TRANSFER_EVENT_TYPES,
  type TransferEventData,
  type TransferEventType,
  type TransferLineSnapshot,
} from '@inv/contracts';
import { appendToOutbox } from '@inv/platform';
import type { EntityManager } from '@mikro-orm/postgresql';
import type { Logger } from 'pino';
import type { MovementContext, StockRecord } from '../domain/record.js';
import { deltas, type StockChange, stockKeyString } from '../domain/stock.js';
import {
  decideSagaSteps,
  discrepancyReason,
  planReceipt,
  planShipment,
  type SagaState,
  type SagaStep,
  shortagesOf,
  stockKeyOfLine,
} from '../domain/transfer-saga.js';
import { TransferReservationRow } from '../infra/db/entities.js';
import {
  findReservations,
  findSaga,
  insertReservations,
  lockSaga,
  saveSaga,
  updateReservation,
} from '../infra/db/sagas.js';
import { entityManagerClient } from '../infra/db/sql-client.js';
import { applyMovements, type BookedChanges, type MovementLine, tryApplyMovements } from './movements.js';

type TransferEvent = Extract<DomainEvent, { type: TransferEventType }>;

function isTransferEvent(event: DomainEvent): event is TransferEvent {
  return (TRANSFER_EVENT_TYPES as string[]).includes(event.type);
}

/** The movements of one saga step, one line per record (in the order first touched), booked in one statement. */
class StepMovements {
  private readonly lines = new Map<string, MovementLine>();

  add(id: string, target: MovementLine['target'], change: StockChange, context: MovementContext): void {
    let line = this.lines.get(id);
    if (!line) {
      line = { target, changes: [] };
      this.lines.set(id, line);
    }
    line.changes.push({ change, context });
  }

  /** The booked record of the line with this id, after `book`. */
  recordOf(booked: BookedChanges[], id: string): StockRecord {
    return booked[[...this.lines.keys()].indexOf(id)]!.record;
  }

  get all(): MovementLine[] {
    return [...this.lines.values()];
  }

  async book(em: EntityManager): Promise<BookedChanges[]> {
    if (this.lines.size === 0) return [];
    return applyMovements(entityManagerClient(em), this.all);
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
    await lockSaga(em, transfer.transferId);
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

  /**
   * All lines or none, in one statement against the levels held when it runs: a short line fails the whole
   * reservation, nothing is held, and the shortages are reported from the levels that refused it.
   */
  private async reserve(input: StepInput): Promise<SagaState> {
    const { em, transfer } = input;
    const source = transfer.sourceWarehouseId;
    const movements = new StepMovements();
    for (const line of transfer.lines) {
      const key = stockKeyOfLine(line, source);
      movements.add(
        stockKeyString(key),
        { key, create: false },
        deltas.reserve(line.quantity),
        this.context(input, `transfer ${transfer.transferId} approved`, line),
      );
    }
    const timestamp = new Date().toISOString();
    const outcome = await tryApplyMovements(entityManagerClient(em), movements.all);
    if (!outcome.ok) {
      const refused = outcome.error.code;
      if (refused !== 'INSUFFICIENT_STOCK' && refused !== 'NOT_FOUND') throw outcome.error;
      const available = new Map(
        movements.all.map((line, i) => [
          stockKeyString((line.target as { key: StockKey }).key),
          outcome.current[i]?.levels.available ?? 0,
        ]),
      );
      const failed = createEvent(
        'inventory.reservation_failed',
        {
          transferId: transfer.transferId,
          warehouseId: source,
          reason: 'INSUFFICIENT_STOCK',
          shortages: shortagesOf(transfer, (key) => available.get(stockKeyString(key)) ?? 0),
          timestamp,
        },
        this.answerMeta(input),
      );
      await appendToOutbox(em, [failed]);
      return 'failed';
    }
    const recordOf = (line: TransferLineSnapshot) =>
      movements.recordOf(outcome.booked, stockKeyString(stockKeyOfLine(line, source)));
    const reservations = transfer.lines.map((line) =>
      Object.assign(new TransferReservationRow(), {
        transferId: transfer.transferId,
        lineId: line.lineId,
        inventoryId: recordOf(line).inventoryId,
        quantity: line.quantity,
        status: 'reserved',
        shippedQuantity: null,
        receivedQuantity: null,
        destinationInventoryId: null,
        updatedAt: new Date(),
      }),
    );
    await insertReservations(em, reservations);
    const reserved = createEvent(
      'inventory.reserved',
      {
        transferId: transfer.transferId,
        warehouseId: source,
        lines: transfer.lines.map((line) => ({
          lineId: line.lineId,
          inventoryId: recordOf(line).inventoryId,
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
    const changes = new StepMovements();
    for (const reservation of reservations) {
      const line = transfer.lines.find((l) => l.lineId === reservation.lineId);
      const plan = planShipment(reservation.quantity, line?.shippedQuantity ?? null);
      const id = reservation.inventoryId;
      changes.add(
        id,
        { inventoryId: id },
        deltas.shipOut(plan.fromReserved, plan.beyondReservation),
        this.context(input, `transfer ${transfer.transferId} shipped ${plan.shipped}`, reservation),
      );
      if (plan.released > 0) {
        changes.add(
          id,
          { inventoryId: id },
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
    const changes = new StepMovements();
    const received: { update: Parameters<typeof updateReservation>[1]; keyId: string }[] = [];
    for (const line of transfer.lines) {
      const key = stockKeyOfLine(line, destination);
      const keyId = stockKeyString(key);
      const reservation = shippedLines.get(line.lineId);
      const shipped = reservation?.shippedQuantity ?? line.shippedQuantity ?? line.quantity;
      const plan = planReceipt(shipped, line.receivedQuantity);
      changes.add(
        keyId,
        { key },
        deltas.receiveIn(plan.received),
        this.context(input, `transfer ${transfer.transferId} received ${plan.received}`, line),
      );
      if (plan.difference !== 0) {
        changes.add(
          keyId,
          { key },
          deltas.discrepancy(),
          this.context(input, discrepancyReason(transfer.transferId, shipped, plan), line),
        );
      }
      if (reservation) {
        received.push({
          keyId,
          update: { ...keyOf(reservation), status: 'received', receivedQuantity: plan.received },
        });
      }
    }
    // After booking: a reservation may point at a destination record this step creates.
    const booked = await changes.book(em);
    for (const { update, keyId } of received) {
      const destinationInventoryId = changes.recordOf(booked, keyId).inventoryId;
      await updateReservation(em, { ...update, destinationInventoryId });
    }
    return 'received';
  }

  private async release(input: StepInput): Promise<SagaState> {
    const { em, transfer, event } = input;
    const reservations = await findReservations(em, transfer.transferId, 'reserved');
    const changes = new StepMovements();
    const verb = event.type === 'transfer.rejected' ? 'rejected' : 'cancelled';
    for (const reservation of reservations) {
      changes.add(
        reservation.inventoryId,
        { inventoryId: reservation.inventoryId },
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
