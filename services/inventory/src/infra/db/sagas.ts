import type { EntityManager } from '@mikro-orm/postgresql';
import type { SagaRecord, SagaState } from '../../domain/transfer-saga.js';
import { TransferReservationRow, TransferSagaRow } from './entities.js';

const FRESH = { disableIdentityMap: true } as const;

/** The first key of the saga locks: apart from every other advisory lock (the two-key form is its own space). */
const SAGA_LOCK_CLASS = 0x5a6a;

/**
 * Serialises the events of one transfer until the transaction ends. The inbox consumer applies one event at a time,
 * but a reconciliation or a dead-letter redrive applies one out of band, and two transactions that both read the
 * saga in a state would both book its step (a shipment taken from the reserved stock twice, another transfer's
 * hold with it). Taken before the saga is read, so it also covers a saga not created yet.
 */
export async function lockSaga(em: EntityManager, transferId: string): Promise<void> {
  await em.execute('select pg_advisory_xact_lock(?, hashtext(?))', [SAGA_LOCK_CLASS, transferId]);
}

export async function findSaga(em: EntityManager, transferId: string): Promise<SagaRecord | null> {
  const row = await em.findOne(TransferSagaRow, { transferId }, FRESH);
  return row ? { transferId, state: row.state as SagaState, transferVersion: row.transferVersion } : null;
}

export async function saveSaga(
  em: EntityManager,
  saga: SagaRecord & { sourceWarehouseId: string; destinationWarehouseId: string },
  isNew: boolean,
): Promise<void> {
  const row = { ...saga, updatedAt: new Date() };
  if (isNew) await em.insert(TransferSagaRow, row);
  else await em.nativeUpdate(TransferSagaRow, { transferId: saga.transferId }, row);
}

export type ReservationStatus = 'reserved' | 'shipped' | 'received' | 'released';

export async function findReservations(
  em: EntityManager,
  transferId: string,
  status: ReservationStatus,
): Promise<TransferReservationRow[]> {
  return em.find(TransferReservationRow, { transferId, status }, { ...FRESH, orderBy: { lineId: 'asc' } });
}

export async function insertReservations(em: EntityManager, rows: TransferReservationRow[]): Promise<void> {
  if (rows.length > 0) await em.insertMany(TransferReservationRow, rows);
}

export async function updateReservation(
  em: EntityManager,
  row: Pick<TransferReservationRow, 'transferId' | 'lineId'> & Partial<TransferReservationRow>,
): Promise<void> {
  await em.nativeUpdate(
    TransferReservationRow,
    { transferId: row.transferId, lineId: row.lineId },
    { ...row, updatedAt: new Date() },
  );
}
