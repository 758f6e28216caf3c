/**
 * JetStream assets of the platform. Plain data (no client types) so the contracts stay dependency-free; the
 * platform package turns these into stream and consumer configurations.
 */

/**
 * All events live in one stream, so a stream sequence orders every channel and is its resume cursor: the domain
 * events of inventory and transfer, and the webhook bridge's few events about its endpoints (`webhooks.>`).
 */
export const EVENTS_STREAM = 'EVENTS';
export const EVENTS_SUBJECTS = ['inventory.>', 'transfer.>', 'webhooks.>'] as const;

/**
 * Every stored event is republished by the server to `live.<subject>` with `Nats-Sequence` and
 * `Nats-Last-Sequence` headers: gateways fan live traffic out from core subscriptions on these subjects.
 */
export const LIVE_PREFIX = 'live';
export function liveSubject(filter: string): string {
  return `${LIVE_PREFIX}.${filter}`;
}

export interface EventsStreamOptions {
  replicas?: number;
  /** How long events are kept; a cursor older than this gets a `reset`. */
  maxAgeMs?: number;
  maxBytes?: number;
  /** Window in which a repeated `Nats-Msg-Id` is dropped. The outbox relay also checks beyond it. */
  duplicateWindowMs?: number;
}

export const EVENTS_STREAM_DEFAULTS = {
  replicas: 1,
  maxAgeMs: 7 * 24 * 60 * 60 * 1000,
  maxBytes: 1024 ** 3,
  duplicateWindowMs: 10 * 60 * 1000,
} as const satisfies Required<EventsStreamOptions>;

/** Durable consumers of the services, each with its single filter subject. */
export const DURABLE_CONSUMERS = {
  /** Inventory applies transfer events: reserve, ship out, receive in, release. */
  inventoryTransfers: { name: 'inventory-transfer-events', filterSubject: 'transfer.>' },
  /** Transfer learns the outcome of a reservation. */
  transferReservations: { name: 'transfer-reservation-results', filterSubject: 'inventory.reservation.>' },
} as const;

/** Key-value bucket in which gateways keep durable sessions' channel positions. */
export const GATEWAY_SESSIONS_BUCKET = 'gateway-sessions';

/**
 * Events a consumer can never apply (undecodable, failing their schema, or refused by a handler as permanent) are
 * kept here on `dlq.<service>.<original subject>`, with their original headers plus the `Dlq-*` headers below,
 * until an operator redrives or discards them (`invctl dead-letters`).
 */
export const DEAD_LETTERS_STREAM = 'DEAD_LETTERS';
export const DEAD_LETTERS_PREFIX = 'dlq';
export function deadLetterSubject(service: string, originalSubject: string): string {
  return `${DEAD_LETTERS_PREFIX}.${service}.${originalSubject}`;
}
export const DEAD_LETTER_HEADERS = {
  subject: 'Dlq-Subject',
  stream: 'Dlq-Stream',
  seq: 'Dlq-Seq',
  consumer: 'Dlq-Consumer',
  reason: 'Dlq-Reason',
  error: 'Dlq-Error',
  deliveries: 'Dlq-Deliveries',
  time: 'Dlq-Time',
} as const;

/**
 * Core request subject on which every instance of a durable consumer (one queue group) applies a redriven dead
 * letter through its inbox and answers with a `RedriveReply`.
 */
export function redriveSubject(consumer: string): string {
  return `redrive.${consumer}`;
}
export type RedriveReply =
  | { outcome: 'applied' | 'duplicate' }
  | { outcome: 'failed'; permanent: boolean; error: string };
