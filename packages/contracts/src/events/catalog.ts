import { z } from 'zod';
import { envelopeOf, RawEnvelope } from './envelope.js';
import {
  BatchExpiringSoonV1,
  InventoryLowStockV1,
  InventoryOutOfStockV1,
  InventoryReservationFailedV1,
  InventoryReservedV1,
  InventoryUpdatedV1,
  InventoryUpdatedV2,
  upcastInventoryUpdatedV1,
} from './inventory.js';
import {
  InventoryReservationCommittedV1,
  InventoryReservationCreatedV1,
  InventoryReservationExtendedV1,
  InventoryReservationReleasedV1,
} from './reservation.js';
import { TransferEventV1 } from './transfer.js';
import { WebhookEndpointPausedV1, WebhookEndpointResumedV1 } from './webhook.js';

type Upcaster = (data: never) => unknown;

interface CatalogEntry {
  /** The version producers write and consumers receive after upcasting. */
  current: number;
  /** The schema of `data` for every version that may still sit in a stream. */
  versions: Record<number, z.ZodType>;
  /** `upcasters[v]` turns version v data into version v + 1 data. */
  upcasters: Record<number, Upcaster>;
}

function single(schema: z.ZodType): CatalogEntry {
  return { current: 1, versions: { 1: schema }, upcasters: {} };
}

/**
 * Every event type on the bus. The first thirteen are the original contract's; then the transfer saga's, then
 * order reservations', then the webhook bridge's about its endpoints.
 */
export const EVENT_CATALOG = {
  'inventory.updated': {
    current: 2,
    versions: { 1: InventoryUpdatedV1, 2: InventoryUpdatedV2 },
    upcasters: { 1: upcastInventoryUpdatedV1 as Upcaster },
  },
  'inventory.low_stock': single(InventoryLowStockV1),
  'inventory.out_of_stock': single(InventoryOutOfStockV1),
  'batch.expiring_soon': single(BatchExpiringSoonV1),
  'transfer.requested': single(TransferEventV1),
  'transfer.approved': single(TransferEventV1),
  'transfer.rejected': single(TransferEventV1),
  'transfer.picking_started': single(TransferEventV1),
  'transfer.packed': single(TransferEventV1),
  'transfer.shipped': single(TransferEventV1),
  'transfer.received': single(TransferEventV1),
  'transfer.completed': single(TransferEventV1),
  'transfer.cancelled': single(TransferEventV1),
  'transfer.stock_reserved': single(TransferEventV1),
  'inventory.reserved': single(InventoryReservedV1),
  'inventory.reservation_failed': single(InventoryReservationFailedV1),
  'inventory.reservation_created': single(InventoryReservationCreatedV1),
  'inventory.reservation_committed': single(InventoryReservationCommittedV1),
  'inventory.reservation_released': single(InventoryReservationReleasedV1),
  'inventory.reservation_extended': single(InventoryReservationExtendedV1),
  'webhooks.endpoint_paused': single(WebhookEndpointPausedV1),
  'webhooks.endpoint_resumed': single(WebhookEndpointResumedV1),
} satisfies Record<string, CatalogEntry>;

export type EventType = keyof typeof EVENT_CATALOG;
export const EVENT_TYPES = Object.keys(EVENT_CATALOG) as EventType[];

/** The thirteen types of the original contract, in its order. */
export const SEED_EVENT_TYPES = EVENT_TYPES.slice(0, 13);

export const TRANSFER_EVENT_TYPES = EVENT_TYPES.filter((t) => t.startsWith('transfer.')) as Extract<
  EventType,
  `transfer.${string}`
>[];
export type TransferEventType = (typeof TRANSFER_EVENT_TYPES)[number];

/** The events of order reservations, published on the stock subjects of their lines' records. */
export const ORDER_RESERVATION_EVENT_TYPES = [
  'inventory.reservation_created',
  'inventory.reservation_committed',
  'inventory.reservation_released',
  'inventory.reservation_extended',
] as const satisfies readonly EventType[];
export type OrderReservationEventType = (typeof ORDER_RESERVATION_EVENT_TYPES)[number];

export function isEventType(value: string): value is EventType {
  return Object.hasOwn(EVENT_CATALOG, value);
}

export const InventoryUpdatedEvent = envelopeOf('inventory.updated', 2, InventoryUpdatedV2);
export const InventoryLowStockEvent = envelopeOf('inventory.low_stock', 1, InventoryLowStockV1);
export const InventoryOutOfStockEvent = envelopeOf('inventory.out_of_stock', 1, InventoryOutOfStockV1);
export const BatchExpiringSoonEvent = envelopeOf('batch.expiring_soon', 1, BatchExpiringSoonV1);
export const InventoryReservedEvent = envelopeOf('inventory.reserved', 1, InventoryReservedV1);
export const InventoryReservationFailedEvent = envelopeOf(
  'inventory.reservation_failed',
  1,
  InventoryReservationFailedV1,
);
export const InventoryReservationCreatedEvent = envelopeOf(
  'inventory.reservation_created',
  1,
  InventoryReservationCreatedV1,
);
export const InventoryReservationCommittedEvent = envelopeOf(
  'inventory.reservation_committed',
  1,
  InventoryReservationCommittedV1,
);
export const InventoryReservationReleasedEvent = envelopeOf(
  'inventory.reservation_released',
  1,
  InventoryReservationReleasedV1,
);
export const InventoryReservationExtendedEvent = envelopeOf(
  'inventory.reservation_extended',
  1,
  InventoryReservationExtendedV1,
);
export const WebhookEndpointPausedEvent = envelopeOf('webhooks.endpoint_paused', 1, WebhookEndpointPausedV1);
export const WebhookEndpointResumedEvent = envelopeOf(
  'webhooks.endpoint_resumed',
  1,
  WebhookEndpointResumedV1,
);
const transferEvent = <const T extends TransferEventType>(type: T) => envelopeOf(type, 1, TransferEventV1);

/** Every event at its current version, discriminated by `type`. */
export const DomainEvent = z.discriminatedUnion('type', [
  InventoryUpdatedEvent,
  InventoryLowStockEvent,
  InventoryOutOfStockEvent,
  BatchExpiringSoonEvent,
  transferEvent('transfer.requested'),
  transferEvent('transfer.approved'),
  transferEvent('transfer.rejected'),
  transferEvent('transfer.picking_started'),
  transferEvent('transfer.packed'),
  transferEvent('transfer.shipped'),
  transferEvent('transfer.received'),
  transferEvent('transfer.completed'),
  transferEvent('transfer.cancelled'),
  transferEvent('transfer.stock_reserved'),
  InventoryReservedEvent,
  InventoryReservationFailedEvent,
  InventoryReservationCreatedEvent,
  InventoryReservationCommittedEvent,
  InventoryReservationReleasedEvent,
  InventoryReservationExtendedEvent,
  WebhookEndpointPausedEvent,
  WebhookEndpointResumedEvent,
]);
export type DomainEvent = z.infer<typeof DomainEvent>;
export type EventOf<T extends EventType> = Extract<DomainEvent, { type: T }>;
export type EventData<T extends EventType> = EventOf<T>['data'];

export type ParseEventResult =
  | { ok: true; event: DomainEvent; upcastFrom: number | null }
  | {
      ok: false;
      reason: 'invalid_envelope' | 'unknown_type' | 'unknown_version' | 'invalid_data';
      message: string;
    };

function describe(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
}

/**
 * Decodes an event of any known version: checks the envelope, checks `data` against the schema of its
 * version, upcasts step by step to the current version and checks the result.
 */
export function parseEvent(raw: unknown): ParseEventResult {
  const envelope = RawEnvelope.safeParse(raw);
  if (!envelope.success) return { ok: false, reason: 'invalid_envelope', message: describe(envelope.error) };
  const { type, schemaVersion } = envelope.data;
  if (!isEventType(type))
    return { ok: false, reason: 'unknown_type', message: `unknown event type "${type}"` };
  const entry: CatalogEntry = EVENT_CATALOG[type];
  const schema = entry.versions[schemaVersion];
  if (!schema || schemaVersion > entry.current) {
    return {
      ok: false,
      reason: 'unknown_version',
      message: `${type} has no schema version ${schemaVersion}`,
    };
  }
  const data = schema.safeParse(envelope.data.data);
  if (!data.success) return { ok: false, reason: 'invalid_data', message: describe(data.error) };

  let upcast: unknown = data.data;
  for (let v = schemaVersion; v < entry.current; v++) {
    const step = entry.upcasters[v];
    if (!step) return { ok: false, reason: 'unknown_version', message: `${type} cannot be upcast from ${v}` };
    upcast = step(upcast as never);
  }
  const current = DomainEvent.safeParse({ ...envelope.data, schemaVersion: entry.current, data: upcast });
  if (!current.success) return { ok: false, reason: 'invalid_data', message: describe(current.error) };
  return {
    ok: true,
    event: current.data,
    upcastFrom: schemaVersion === entry.current ? null : schemaVersion,
  };
}

export function decodeEvent(bytes: Uint8Array | string): ParseEventResult {
  let raw: unknown;
  try {
    raw = JSON.parse(typeof bytes === 'string' ? bytes : new TextDecoder().decode(bytes));
  } catch (error) {
    return { ok: false, reason: 'invalid_envelope', message: `not JSON: ${(error as Error).message}` };
  }
  return parseEvent(raw);
}
