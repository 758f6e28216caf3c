import { isValidId } from './ids.js';
import { type ParsedSubject, parseSubject, subjectMatches } from './subjects.js';

/** The channels of the original contract; `/ws` accepts all of them, `/ws/warehouses` the warehouse-scoped ones. */
export type Channel =
  | { kind: 'global' }
  | { kind: 'product'; productId: string }
  | { kind: 'warehouse'; warehouseId: string }
  | { kind: 'variant'; variantId: string }
  | { kind: 'uom'; uomId: string }
  | { kind: 'product-warehouse'; productId: string; warehouseId: string }
  | { kind: 'transfer'; transferId: string };
export type ChannelKind = Channel['kind'];

export const CHANNEL_KINDS: ChannelKind[] = [
  'global',
  'product',
  'warehouse',
  'variant',
  'uom',
  'product-warehouse',
  'transfer',
];
export const CHANNEL_MAX_LENGTH = 160;

export type ParseChannelResult = { ok: true; channel: Channel } | { ok: false; message: string };

const SINGLE_ID_KINDS = {
  product: (id: string): Channel => ({ kind: 'product', productId: id }),
  warehouse: (id: string): Channel => ({ kind: 'warehouse', warehouseId: id }),
  variant: (id: string): Channel => ({ kind: 'variant', variantId: id }),
  uom: (id: string): Channel => ({ kind: 'uom', uomId: id }),
  transfer: (id: string): Channel => ({ kind: 'transfer', transferId: id }),
} as const;

export function parseChannel(input: unknown): ParseChannelResult {
  if (typeof input !== 'string') return { ok: false, message: 'channel must be a string' };
  if (input.length === 0 || input.length > CHANNEL_MAX_LENGTH) {
    return { ok: false, message: `channel must be 1 to ${CHANNEL_MAX_LENGTH} characters` };
  }
  if (input === 'global') return { ok: true, channel: { kind: 'global' } };
  const parts = input.split(':');
  const badId = parts.slice(1).find((p, i) => i % 2 === 0 && !isValidId(p));
  if (badId !== undefined) {
    return { ok: false, message: `invalid id ${JSON.stringify(badId)} in channel` };
  }
  if (parts.length === 2) {
    // An own-property check: `constructor`, `toString` or `__proto__` are not kinds.
    const kind = parts[0]!;
    if (Object.hasOwn(SINGLE_ID_KINDS, kind)) {
      return { ok: true, channel: SINGLE_ID_KINDS[kind as keyof typeof SINGLE_ID_KINDS](parts[1]!) };
    }
  }
  if (parts.length === 4 && parts[0] === 'product' && parts[2] === 'warehouse') {
    return { ok: true, channel: { kind: 'product-warehouse', productId: parts[1]!, warehouseId: parts[3]! } };
  }
  return {
    ok: false,
    message:
      'unknown channel; expected global, product:{id}, warehouse:{id}, variant:{id}, uom:{id}, ' +
      'product:{id}:warehouse:{id} or transfer:{id}',
  };
}

export function formatChannel(channel: Channel): string {
  switch (channel.kind) {
    case 'global':
      return 'global';
    case 'product':
      return `product:${channel.productId}`;
    case 'warehouse':
      return `warehouse:${channel.warehouseId}`;
    case 'variant':
      return `variant:${channel.variantId}`;
    case 'uom':
      return `uom:${channel.uomId}`;
    case 'product-warehouse':
      return `product:${channel.productId}:warehouse:${channel.warehouseId}`;
    case 'transfer':
      return `transfer:${channel.transferId}`;
  }
}

/**
 * The EVENTS stream subject filters a channel covers. The filters of one channel never overlap except for a
 * transfer whose source and destination are the same warehouse, which the transfer service refuses.
 * `>` means the whole stream.
 */
export function channelFilters(channel: Channel): string[] {
  switch (channel.kind) {
    case 'global':
      return ['>'];
    case 'product':
      return [`inventory.product.${channel.productId}.>`];
    case 'warehouse':
      return [
        `inventory.product.*.warehouse.${channel.warehouseId}.>`,
        `transfer.*.from.${channel.warehouseId}.>`,
        `transfer.*.from.*.to.${channel.warehouseId}.>`,
      ];
    case 'variant':
      return [`inventory.product.*.warehouse.*.variant.${channel.variantId}.>`];
    case 'uom':
      return [`inventory.product.*.warehouse.*.variant.*.uom.${channel.uomId}.>`];
    case 'product-warehouse':
      return [`inventory.product.${channel.productId}.warehouse.${channel.warehouseId}.>`];
    case 'transfer':
      return [`transfer.${channel.transferId}.>`];
  }
}

export function channelMatchesSubject(channel: Channel, subject: string): boolean {
  return channelFilters(channel).some((filter) => subjectMatches(filter, subject));
}

/** The warehouses a channel is confined to, or null when it spans every warehouse. */
export function channelWarehouses(channel: Channel): string[] | null {
  switch (channel.kind) {
    case 'warehouse':
    case 'product-warehouse':
      return [channel.warehouseId];
    default:
      return null;
  }
}

/** Channel kinds served on `/ws/warehouses`: traffic into or out of named warehouses. */
export const WAREHOUSE_ENDPOINT_KINDS: ChannelKind[] = ['warehouse', 'product-warehouse'];

/** Every channel a concrete event subject belongs to (used to route one live message to all its channels). */
export function channelsOfSubject(subject: string): Channel[] {
  const parsed: ParsedSubject | null = parseSubject(subject);
  if (!parsed) return [];
  const channels: Channel[] = [{ kind: 'global' }];
  if (parsed.family === 'stock') {
    channels.push(
      { kind: 'product', productId: parsed.productId },
      { kind: 'warehouse', warehouseId: parsed.warehouseId },
      { kind: 'product-warehouse', productId: parsed.productId, warehouseId: parsed.warehouseId },
    );
    if (parsed.variantId !== null) channels.push({ kind: 'variant', variantId: parsed.variantId });
    if (parsed.uomId !== null) channels.push({ kind: 'uom', uomId: parsed.uomId });
  } else if (parsed.family === 'transfer') {
    channels.push(
      { kind: 'transfer', transferId: parsed.transferId },
      { kind: 'warehouse', warehouseId: parsed.sourceWarehouseId },
    );
    if (parsed.destinationWarehouseId !== parsed.sourceWarehouseId) {
      channels.push({ kind: 'warehouse', warehouseId: parsed.destinationWarehouseId });
    }
  }
  return channels;
}
