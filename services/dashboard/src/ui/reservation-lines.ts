import { type ReservationEvent, reservationStatusAfter } from '@inv/client';
import type { Reservation, ReservationState } from '@inv/contracts';

/** One line of an order reservation: what it holds of one stock record, and until when. */
export interface HeldLine {
  key: string;
  reservationId: string;
  lineId: string;
  inventoryId: string;
  warehouseId: string;
  productId: string;
  reference: string;
  quantity: number;
  expiresAt: string;
  status: ReservationState;
  /** When the line was last changed (event or REST), to keep the newest state whatever arrives last. */
  at: string;
  /** How many lines the reservation has: releasing it releases them all. */
  linesInReservation: number;
}

/** Finished lines shown after they end (committed, released, expired), newest first. */
const FINISHED_SHOWN = 30;

/**
 * Reservation lines per stock record, from the active list loaded over REST and the reservation events on
 * the subscribed channels. A line only moves forward: an older state (a replayed `created` after the release
 * was loaded) never brings a finished line back.
 */
export class ReservationLines {
  readonly lines = new Map<string, HeldLine>();

  apply(event: ReservationEvent): void {
    const d = event.data;
    const known = this.lines.get(`${d.reservationId}/${d.lineId}`);
    this.put({
      key: `${d.reservationId}/${d.lineId}`,
      reservationId: d.reservationId,
      lineId: d.lineId,
      inventoryId: d.inventoryId,
      warehouseId: d.warehouseId,
      productId: d.productId,
      reference: d.reference,
      quantity: d.quantity,
      expiresAt: d.expiresAt,
      status: reservationStatusAfter(event),
      at: d.timestamp,
      linesInReservation: known?.linesInReservation ?? 1,
    });
  }

  /** A reservation as the REST API returns it (the active list on load, the answer to a release). */
  applyReservation(reservation: Reservation): void {
    for (const line of reservation.lines) {
      this.put({
        key: `${reservation.reservationId}/${line.lineId}`,
        reservationId: reservation.reservationId,
        lineId: line.lineId,
        inventoryId: line.inventoryId,
        warehouseId: line.warehouseId,
        productId: line.productId,
        reference: reservation.reference,
        quantity: line.quantity,
        expiresAt: reservation.expiresAt,
        status: reservation.status,
        at: reservation.updatedAt,
        linesInReservation: reservation.lines.length,
      });
    }
  }

  private put(line: HeldLine): void {
    const current = this.lines.get(line.key);
    if (current) {
      if (current.status !== 'active' && line.status === 'active') return;
      if (current.at > line.at && line.status === current.status) return;
      line.linesInReservation = Math.max(line.linesInReservation, current.linesInReservation);
    }
    this.lines.set(line.key, line);
    this.forgetOldFinished();
  }

  private forgetOldFinished(): void {
    const finished = [...this.lines.values()].filter((l) => l.status !== 'active');
    if (finished.length <= FINISHED_SHOWN) return;
    finished.sort((a, b) => b.at.localeCompare(a.at));
    for (const line of finished.slice(FINISHED_SHOWN)) this.lines.delete(line.key);
  }

  /** Lines grouped by stock record (records in product, warehouse order; active lines first, soonest due). */
  byRecord(): { inventoryId: string; productId: string; warehouseId: string; lines: HeldLine[] }[] {
    const groups = new Map<string, HeldLine[]>();
    for (const line of this.lines.values()) {
      groups.set(line.inventoryId, [...(groups.get(line.inventoryId) ?? []), line]);
    }
    return [...groups.entries()]
      .map(([inventoryId, lines]) => ({
        inventoryId,
        productId: lines[0]!.productId,
        warehouseId: lines[0]!.warehouseId,
        lines: lines.sort(
          (a, b) =>
            Number(b.status === 'active') - Number(a.status === 'active') ||
            a.expiresAt.localeCompare(b.expiresAt),
        ),
      }))
      .sort((a, b) => a.productId.localeCompare(b.productId) || a.warehouseId.localeCompare(b.warehouseId));
  }

  get activeCount(): number {
    return [...this.lines.values()].filter((l) => l.status === 'active').length;
  }
}
