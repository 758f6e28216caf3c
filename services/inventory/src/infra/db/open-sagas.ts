import type { EntityManager } from '@mikro-orm/postgresql';

export interface OpenSaga {
  transferId: string;
  sourceWarehouseId: string;
  destinationWarehouseId: string;
  state: 'reserved' | 'shipped';
  transferVersion: number;
}

/** Sagas that still expect a transfer event (reserved: ship/receive/cancel/reject; shipped: receive). */
export async function findOpenSagas(em: EntityManager, limit: number): Promise<OpenSaga[]> {
  const rows = await em.execute<
    {
      transfer_id: string;
      source_warehouse_id: string;
      destination_warehouse_id: string;
      state: OpenSaga['state'];
      transfer_version: number;
    }[]
  >(
    `select transfer_id, source_warehouse_id, destination_warehouse_id, state, transfer_version
       from transfer_saga where state in ('reserved', 'shipped') order by updated_at limit ?`,
    [limit],
  );
  return rows.map((r) => ({
    transferId: r.transfer_id,
    sourceWarehouseId: r.source_warehouse_id,
    destinationWarehouseId: r.destination_warehouse_id,
    state: r.state,
    transferVersion: r.transfer_version,
  }));
}

export async function inboxHas(em: EntityManager, consumer: string, eventId: string): Promise<boolean> {
  const rows = await em.execute('select 1 from inbox where consumer = ? and event_id = ?', [
    consumer,
    eventId,
  ]);
  return rows.length > 0;
}
