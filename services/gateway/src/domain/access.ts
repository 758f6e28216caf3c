import {
  type AccessClaims,
  ALL_WAREHOUSES,
  type Channel,
  channelWarehouses,
  formatChannel,
  WAREHOUSE_ENDPOINT_KINDS,
  type WsErrorCode,
} from '@inv/contracts';

/** The two WebSocket endpoints: `/ws` (every channel) and `/ws/warehouses` (warehouse-scoped channels). */
export type Endpoint = 'inventory' | 'warehouses';

/** What a connection may see, read once from its token's claims. */
export interface WarehouseScope {
  all: boolean;
  warehouses: ReadonlySet<string>;
}

const EVERY_WAREHOUSE: WarehouseScope = { all: true, warehouses: new Set() };

export function scopeOf(claims: Pick<AccessClaims, 'warehouses'>): WarehouseScope {
  if (claims.warehouses.includes(ALL_WAREHOUSES)) return EVERY_WAREHOUSE;
  return { all: false, warehouses: new Set(claims.warehouses) };
}

/**
 * Whether an event concerning these warehouses is visible: when any of them is claimed. An event that concerns
 * no warehouse (a reservation answer of the transfer saga) is visible only to callers that see every warehouse.
 */
export function canSeeEvent(scope: WarehouseScope, warehouses: readonly string[]): boolean {
  if (scope.all) return true;
  for (const warehouse of warehouses) if (scope.warehouses.has(warehouse)) return true;
  return false;
}

export type SubscribeRefusal = { code: WsErrorCode; message: string };

/**
 * Whether a connection on this endpoint with this scope may subscribe to a channel. Channels confined to named
 * warehouses need a claim on them; broad channels are allowed on `/ws` and filtered event by event.
 */
export function refuseSubscribe(
  endpoint: Endpoint,
  scope: WarehouseScope,
  channel: Channel,
): SubscribeRefusal | null {
  if (endpoint === 'warehouses' && !WAREHOUSE_ENDPOINT_KINDS.includes(channel.kind)) {
    return {
      code: 'CHANNEL_NOT_ALLOWED_HERE',
      message: `/ws/warehouses serves ${WAREHOUSE_ENDPOINT_KINDS.join(' and ')} channels; use /ws for ${channel.kind}`,
    };
  }
  const confined = channelWarehouses(channel);
  const unclaimed = scope.all ? [] : (confined ?? []).filter((w) => !scope.warehouses.has(w));
  if (unclaimed.length > 0) {
    return {
      code: 'FORBIDDEN_CHANNEL',
      message: `your token does not grant warehouse ${unclaimed.join(', ')}`,
    };
  }
  return null;
}

/**
 * The channels a connection gets until it subscribes to something itself: `global` on `/ws` (the original
 * contract's default room), and on `/ws/warehouses` one `warehouse:{id}` per claimed warehouse (none for
 * callers that see every warehouse: that set has no end, they subscribe to the warehouses they want).
 */
export function defaultChannels(endpoint: Endpoint, scope: WarehouseScope, max: number): string[] {
  if (endpoint === 'inventory') return ['global'];
  if (scope.all) return [];
  return [...scope.warehouses]
    .slice(0, max)
    .map((warehouseId) => formatChannel({ kind: 'warehouse', warehouseId }));
}
