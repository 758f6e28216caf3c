// The SDK's public API. Internals (backoff schedule, de-duplication window, subscribe batching) stay in their
// modules, so they can change without breaking an application.
export type { BackoffOptions } from './backoff.js';
export {
  type EventHandler,
  InventoryClient,
  type InventoryClientOptions,
  type NetworkStatus,
  type PageLifecycle,
} from './client.js';
export {
  isReservationEvent,
  onReservations,
  type ReservationEvent,
  reservationStatusAfter,
} from './reservations.js';
export type {
  ClientEvent,
  ConnectionState,
  KeyValueStorage,
  ResetNotice,
  ServerError,
  WebSocketFactory,
  WebSocketLike,
} from './types.js';
