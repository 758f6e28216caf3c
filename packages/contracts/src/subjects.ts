import type { DomainEvent, EventType } from './events/catalog.js';
import { ABSENT_TOKEN, isValidId } from './ids.js';

/**
 * Subject layout of the EVENTS stream. Every ID a channel can name is a token of its own, so each channel maps
 * to single-filter consumers (NATS 2.9 has one filter subject per consumer).
 *
 *   inventory.product.{productId}.warehouse.{warehouseId}.variant.{variantId|_}.uom.{uomId|_}.{event}
 *   transfer.{transferId}.from.{sourceWarehouseId}.to.{destinationWarehouseId}.{event}
 *   inventory.reservation.{transferId}.{event}
 *   webhooks.endpoint.{endpointId}.{event}
 *
 * Order reservations (`inventory.reservation_*`) travel on the stock subjects, one event per line.
 */
export type ParsedSubject =
  | {
      family: 'stock';
      productId: string;
      warehouseId: string;
      variantId: string | null;
      uomId: string | null;
      eventType: EventType;
    }
  | {
      family: 'transfer';
      transferId: string;
      sourceWarehouseId: string;
      destinationWarehouseId: string;
      eventType: EventType;
    }
  | { family: 'reservation'; transferId: string; eventType: EventType }
  | { family: 'webhook'; endpointId: string; eventType: EventType };

const STOCK_TOKENS = {
  updated: 'inventory.updated',
  low_stock: 'inventory.low_stock',
  out_of_stock: 'inventory.out_of_stock',
  batch_expiring_soon: 'batch.expiring_soon',
  reservation_created: 'inventory.reservation_created',
  reservation_committed: 'inventory.reservation_committed',
  reservation_released: 'inventory.reservation_released',
  reservation_extended: 'inventory.reservation_extended',
} as const satisfies Record<string, EventType>;

const RESERVATION_TOKENS = {
  reserved: 'inventory.reserved',
  reservation_failed: 'inventory.reservation_failed',
} as const satisfies Record<string, EventType>;

const TRANSFER_TOKENS = {
  requested: 'transfer.requested',
  approved: 'transfer.approved',
  rejected: 'transfer.rejected',
  picking_started: 'transfer.picking_started',
  packed: 'transfer.packed',
  shipped: 'transfer.shipped',
  received: 'transfer.received',
  completed: 'transfer.completed',
  cancelled: 'transfer.cancelled',
  stock_reserved: 'transfer.stock_reserved',
} as const satisfies Record<string, EventType>;

const WEBHOOK_TOKENS = {
  paused: 'webhooks.endpoint_paused',
  resumed: 'webhooks.endpoint_resumed',
} as const satisfies Record<string, EventType>;

type StockEventType = (typeof STOCK_TOKENS)[keyof typeof STOCK_TOKENS];
type TransferEventType = (typeof TRANSFER_TOKENS)[keyof typeof TRANSFER_TOKENS];
type ReservationEventType = (typeof RESERVATION_TOKENS)[keyof typeof RESERVATION_TOKENS];
type WebhookEventType = (typeof WEBHOOK_TOKENS)[keyof typeof WEBHOOK_TOKENS];

function tokenOf<M extends Record<string, string>>(map: M, type: string): string {
  const token = Object.keys(map).find((k) => map[k] === type);
  if (!token) throw new Error(`event type ${type} has no subject token in this family`);
  return token;
}

/** The event type a subject token names; own properties only, so `constructor` or `toString` name nothing. */
function eventTypeOfToken<M extends Record<string, string>>(
  map: M,
  token: string | undefined,
): M[keyof M] | undefined {
  return token !== undefined && Object.hasOwn(map, token) ? (map[token] as M[keyof M]) : undefined;
}

function requireId(name: string, value: string): string {
  if (!isValidId(value)) throw new Error(`invalid ${name} for a subject: ${JSON.stringify(value)}`);
  return value;
}

function optionalToken(name: string, value: string | null | undefined): string {
  return value == null ? ABSENT_TOKEN : requireId(name, value);
}

export function stockSubject(
  key: { productId: string; warehouseId: string; variantId?: string | null; uomId?: string | null },
  type: StockEventType,
): string {
  return [
    'inventory.product',
    requireId('productId', key.productId),
    'warehouse',
    requireId('warehouseId', key.warehouseId),
    'variant',
    optionalToken('variantId', key.variantId),
    'uom',
    optionalToken('uomId', key.uomId),
    tokenOf(STOCK_TOKENS, type),
  ].join('.');
}

export function transferSubject(
  key: { transferId: string; sourceWarehouseId: string; destinationWarehouseId: string },
  type: TransferEventType,
): string {
  return [
    'transfer',
    requireId('transferId', key.transferId),
    'from',
    requireId('sourceWarehouseId', key.sourceWarehouseId),
    'to',
    requireId('destinationWarehouseId', key.destinationWarehouseId),
    tokenOf(TRANSFER_TOKENS, type),
  ].join('.');
}

export function reservationSubject(transferId: string, type: ReservationEventType): string {
  return [
    'inventory.reservation',
    requireId('transferId', transferId),
    tokenOf(RESERVATION_TOKENS, type),
  ].join('.');
}

export function webhookEndpointSubject(endpointId: string, type: WebhookEventType): string {
  return ['webhooks.endpoint', requireId('endpointId', endpointId), tokenOf(WEBHOOK_TOKENS, type)].join('.');
}

/** The subject an event is published on, derived from its type and data. */
export function subjectOf(event: DomainEvent): string {
  switch (event.type) {
    case 'inventory.updated':
    case 'inventory.low_stock':
    case 'inventory.out_of_stock':
    case 'batch.expiring_soon':
    case 'inventory.reservation_created':
    case 'inventory.reservation_committed':
    case 'inventory.reservation_released':
    case 'inventory.reservation_extended':
      return stockSubject(event.data, event.type);
    case 'inventory.reserved':
    case 'inventory.reservation_failed':
      return reservationSubject(event.data.transferId, event.type);
    case 'webhooks.endpoint_paused':
    case 'webhooks.endpoint_resumed':
      return webhookEndpointSubject(event.data.endpointId, event.type);
    default:
      return transferSubject(event.data, event.type);
  }
}

function optionalId(token: string): string | null | undefined {
  if (token === ABSENT_TOKEN) return null;
  return isValidId(token) ? token : undefined;
}

/** Parses a concrete subject of the EVENTS stream; null for anything that is not one. */
export function parseSubject(subject: string): ParsedSubject | null {
  const t = subject.split('.');
  if (t[0] === 'inventory' && t[1] === 'product' && t.length === 10) {
    const [, , productId, w, warehouseId, v, variantToken, u, uomToken, token] = t as [string, ...string[]];
    const eventType = eventTypeOfToken(STOCK_TOKENS, token);
    const variantId = optionalId(variantToken!);
    const uomId = optionalId(uomToken!);
    if (w !== 'warehouse' || v !== 'variant' || u !== 'uom' || !eventType) return null;
    if (!isValidId(productId) || !isValidId(warehouseId) || variantId === undefined || uomId === undefined) {
      return null;
    }
    return { family: 'stock', productId, warehouseId, variantId, uomId, eventType };
  }
  if (t[0] === 'inventory' && t[1] === 'reservation' && t.length === 4) {
    const eventType = eventTypeOfToken(RESERVATION_TOKENS, t[3]);
    if (!eventType || !isValidId(t[2])) return null;
    return { family: 'reservation', transferId: t[2], eventType };
  }
  if (t[0] === 'webhooks' && t[1] === 'endpoint' && t.length === 4) {
    const eventType = eventTypeOfToken(WEBHOOK_TOKENS, t[3]);
    if (!eventType || !isValidId(t[2])) return null;
    return { family: 'webhook', endpointId: t[2], eventType };
  }
  if (t[0] === 'transfer' && t.length === 7 && t[2] === 'from' && t[4] === 'to') {
    const eventType = eventTypeOfToken(TRANSFER_TOKENS, t[6]);
    if (!eventType || !isValidId(t[1]) || !isValidId(t[3]) || !isValidId(t[5])) return null;
    return {
      family: 'transfer',
      transferId: t[1],
      sourceWarehouseId: t[3],
      destinationWarehouseId: t[5],
      eventType,
    };
  }
  return null;
}

/** The warehouses an event on this subject concerns: the basis of warehouse claims. */
export function warehousesOfSubject(parsed: ParsedSubject): string[] {
  switch (parsed.family) {
    case 'stock':
      return [parsed.warehouseId];
    case 'transfer':
      return [parsed.sourceWarehouseId, parsed.destinationWarehouseId];
    case 'reservation':
    case 'webhook':
      return [];
  }
}

/** NATS subject matching: `*` matches one token, a final `>` one or more. */
export function subjectMatches(filter: string, subject: string): boolean {
  if (filter === '>') return subject.length > 0;
  const f = filter.split('.');
  const s = subject.split('.');
  for (let i = 0; i < f.length; i++) {
    const token = f[i];
    if (token === '>') return s.length > i;
    if (i >= s.length) return false;
    if (token !== '*' && token !== s[i]) return false;
  }
  return f.length === s.length;
}
