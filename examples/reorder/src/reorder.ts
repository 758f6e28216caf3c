import { EventConsumer, PostgresProcessedEvents } from '@inv/consumer-kit';
import type { DomainEvent, EventData, InventoryRecord } from '@inv/contracts';
import { connect } from '@nats-io/transport-node';
import { SignJWT } from 'jose';
import pg from 'pg';
import type { Logger } from 'pino';
import { chooseSource } from './choose-source.js';
import type { ReorderConfig } from './config.js';

export const REORDER_CONSUMER = 'example-reorder';

/** Bearer token for the REST calls: the configured one, or (development) one minted with the shared secret. */
function tokenSource(config: ReorderConfig): () => Promise<string> {
  if (config.SERVICE_TOKEN) return async () => config.SERVICE_TOKEN!;
  const secret = new TextEncoder().encode(config.JWT_SECRET!);
  return () =>
    new SignJWT({ roles: ['clerk'], warehouses: ['*'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('reorder-service')
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(secret);
}

async function call(url: string, token: string, init: RequestInit = {}): Promise<Response> {
  const response = await fetch(url, {
    ...init,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...init.headers },
  });
  if (response.status >= 500) throw new Error(`${url} answered ${response.status}`);
  return response;
}

/**
 * On `inventory.low_stock`: reads the product's stock across warehouses and requests a transfer of the deficit
 * from the warehouse with the most to spare. The event id is the request's Idempotency-Key, so a redelivery
 * after a crash between the REST call and the commit creates no second transfer.
 */
export function reorderHandler(config: ReorderConfig, logger: Logger) {
  const token = tokenSource(config);
  return async (event: DomainEvent): Promise<void> => {
    if (event.type !== 'inventory.low_stock') return;
    const low = event.data as EventData<'inventory.low_stock'>;
    const bearer = await token();
    const stock = await call(`${config.INVENTORY_URL}/api/inventory/product/${low.productId}`, bearer);
    if (!stock.ok) throw new Error(`stock of ${low.productId}: ${stock.status}`);
    const records = ((await stock.json()) as { warehouses: InventoryRecord[] }).warehouses;
    const source = chooseSource(records, {
      warehouseId: low.warehouseId,
      variantId: low.variantId ?? null,
      uomId: low.uomId ?? null,
      deficit: low.deficit,
    });
    if (!source) {
      logger.info({ productId: low.productId, warehouseId: low.warehouseId }, 'no warehouse can spare stock');
      return;
    }
    const response = await call(`${config.TRANSFER_URL}/api/transfers`, bearer, {
      method: 'POST',
      headers: { 'idempotency-key': `reorder-${event.id}` },
      body: JSON.stringify({
        sourceWarehouseId: source.sourceWarehouseId,
        destinationWarehouseId: low.warehouseId,
        lines: [
          { productId: low.productId, variantId: low.variantId, uomId: low.uomId, quantity: source.quantity },
        ],
        note: `reorder for low stock event ${event.id}`,
      }),
    });
    const body = (await response.json()) as { transferId?: string; code?: string };
    if (!response.ok) {
      // A 4xx will not succeed on retry: log it and let the event go.
      logger.warn(
        { status: response.status, code: body.code, eventId: event.id },
        'transfer request refused',
      );
      return;
    }
    logger.info({ transferId: body.transferId, ...source, to: low.warehouseId }, 'transfer requested');
  };
}

export interface ReorderService {
  consumer: EventConsumer<pg.PoolClient>;
  stop(): Promise<void>;
}

export async function startReorderService(config: ReorderConfig, logger: Logger): Promise<ReorderService> {
  const pool = new pg.Pool({ connectionString: config.DATABASE_URL, max: 4 });
  const processed = new PostgresProcessedEvents(pool);
  await processed.ensureTable();
  const nc = await connect({ servers: config.NATS_URL.split(','), maxReconnectAttempts: -1 });
  const consumer = new EventConsumer({
    nc,
    durable: REORDER_CONSUMER,
    selection: { types: ['inventory.low_stock'] },
    processed,
    handle: reorderHandler(config, logger),
    startAt: 'new',
    onRetentionGap: (gap) =>
      logger.warn(gap, 'low-stock events aged out unseen; the next adjust re-raises them'),
    log: (level, message, details) => logger[level](details ?? {}, message),
  });
  await consumer.start();
  return {
    consumer,
    async stop() {
      await consumer.stop();
      await nc.drain();
      await pool.end();
    },
  };
}
