import type { OrderReservationEventType, ReservationState } from '@inv/contracts';
import type { EventHandler } from './client.js';
import type { ClientEvent } from './types.js';

/** An order reservation event (created, committed, released, extended) as delivered on a stock channel. */
export type ReservationEvent = ClientEvent<OrderReservationEventType>;

/** Kept here rather than imported, so the SDK needs no runtime code from the contracts package. */
const RESERVATION_TYPES: ReadonlySet<string> = new Set([
  'inventory.reservation_created',
  'inventory.reservation_committed',
  'inventory.reservation_released',
  'inventory.reservation_extended',
] satisfies OrderReservationEventType[]);

export function isReservationEvent(event: ClientEvent): event is ReservationEvent {
  return RESERVATION_TYPES.has(event.type);
}

/** A subscription handler that passes on only order reservation events, typed: `subscribe(ch, onReservations(h))`. */
export function onReservations(handler: (event: ReservationEvent) => void): EventHandler {
  return (event) => {
    if (isReservationEvent(event)) handler(event);
  };
}

/**
 * The reservation's status after the event. A partial commit's release of the rest leaves it `committed`;
 * an expiry shows as `expired`.
 */
export function reservationStatusAfter(event: ReservationEvent): ReservationState {
  switch (event.type) {
    case 'inventory.reservation_created':
    case 'inventory.reservation_extended':
      return 'active';
    case 'inventory.reservation_committed':
      return 'committed';
    case 'inventory.reservation_released':
      return event.data.reason === 'expired'
        ? 'expired'
        : event.data.reason === 'released'
          ? 'released'
          : 'committed';
  }
}
