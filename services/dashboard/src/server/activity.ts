import type { InventoryRecord, Transfer, TransferAction, TransferStatus } from '@inv/contracts';
import type { Logger } from 'pino';
import { type Rest, RestError } from './rest-client.js';

/** Reservations and transfers the simulator makes carry these, so they are easy to tell apart from real ones. */
export const ACTIVITY_REFERENCE_PREFIX = 'sim-';
const ACTIVITY_NOTE = 'simulated activity';

/** What each tick does, in turn: a small, steady and varied flow. */
const ROUND = ['adjust', 'reserve', 'adjust', 'transfer', 'settle'] as const;

/** The next step of a transfer the simulator moves along, by its status; absent: the transfer is done. */
const NEXT_STEP: Partial<Record<TransferStatus, TransferAction>> = {
  requested: 'approve',
  approved: 'start-picking',
  picking_started: 'pack',
  packed: 'ship',
  shipped: 'receive',
  received: 'complete',
};

const pick = <T>(items: T[]): T | undefined => items[Math.floor(Math.random() * items.length)];
const between = (low: number, high: number) => low + Math.floor(Math.random() * (high - low + 1));

/**
 * Demo activity: every interval one adjust, reservation (made, then committed or released) or transfer step
 * through the public REST APIs, so the dashboard visibly moves. Off until started; one step at a time (a
 * slow step makes the next tick skip rather than pile up). Refusals the services may give (not enough stock,
 * a reservation still pending) are expected and only logged at debug.
 */
export class ActivitySimulator {
  private timer: NodeJS.Timeout | null = null;
  private busy: Promise<void> | null = null;
  private tick = 0;
  /** Steps taken since the server started (refused ones too). */
  steps = 0;
  private records: InventoryRecord[] = [];
  private held: string[] = [];
  private transferId: string | null = null;

  constructor(
    private readonly rest: Rest,
    readonly intervalMs: number,
    private readonly logger: Logger,
  ) {}

  get running(): boolean {
    return this.timer !== null;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => {
      if (this.busy) return;
      this.busy = this.step().finally(() => {
        this.busy = null;
      });
    }, this.intervalMs);
    this.logger.info({ intervalMs: this.intervalMs }, 'demo activity started');
  }

  /** Stops ticking and waits for a step under way, so nothing more is booked once this resolves. */
  async stop(): Promise<void> {
    if (!this.timer) return;
    clearInterval(this.timer);
    this.timer = null;
    await this.busy;
    this.logger.info('demo activity stopped');
  }

  private async step(): Promise<void> {
    const kind = ROUND[this.tick++ % ROUND.length]!;
    this.steps++;
    try {
      if (this.tick % 20 === 1 || this.records.length === 0) await this.refreshRecords();
      if (this.records.length === 0) return;
      if (kind === 'adjust') await this.adjust();
      else if (kind === 'reserve') await this.reserve();
      else if (kind === 'settle') await this.settle();
      else await this.moveTransfer();
    } catch (error) {
      const expected = error instanceof RestError && error.status < 500;
      this.logger[expected ? 'debug' : 'warn']({ err: error, kind }, 'demo activity step refused');
    }
  }

  private async refreshRecords(): Promise<void> {
    const page = await this.rest.call<{ items: InventoryRecord[] }>('GET', '/api/inventory?limit=200');
    this.records = page.items;
  }

  private async adjust(): Promise<void> {
    const record = pick(this.records)!;
    const out = record.quantityAvailable > 20 && Math.random() < 0.5;
    const result = await this.rest.call<{ inventory: InventoryRecord }>('POST', '/api/inventory/adjust', {
      warehouseId: record.warehouseId,
      productId: record.productId,
      variantId: record.variantId,
      uomId: record.uomId,
      movementType: out ? 'out' : 'in',
      quantity: between(1, out ? 3 : 5),
      source: 'activity',
      reason: ACTIVITY_NOTE,
    });
    this.records = this.records.map((r) => (r.inventoryId === record.inventoryId ? result.inventory : r));
  }

  private async reserve(): Promise<void> {
    const record = pick(this.records.filter((r) => r.quantityAvailable >= 3));
    if (!record) return;
    const reservation = await this.rest.call<{ reservationId: string }>('POST', '/api/reservations', {
      reference: `${ACTIVITY_REFERENCE_PREFIX}${Date.now().toString(36)}`,
      lines: [
        {
          warehouseId: record.warehouseId,
          productId: record.productId,
          variantId: record.variantId,
          uomId: record.uomId,
          quantity: between(1, 2),
        },
      ],
      // Short holds: some are settled by the next rounds, the rest expire while you watch.
      expiresInSeconds: between(45, 180),
    });
    this.held.push(reservation.reservationId);
  }

  /** The oldest hold the simulator made is committed (the order shipped) or released (the cart abandoned). */
  private async settle(): Promise<void> {
    const reservationId = this.held.shift();
    if (!reservationId) return;
    if (Math.random() < 0.5) {
      await this.rest.call('POST', `/api/reservations/${reservationId}/commit`, {});
    } else {
      await this.rest.call('POST', `/api/reservations/${reservationId}/release`, {
        reason: 'simulated: cart abandoned',
      });
    }
  }

  /** One step of the simulator's open transfer, or a new transfer once the last one is done. */
  private async moveTransfer(): Promise<void> {
    if (!this.transferId) {
      await this.requestTransfer();
      return;
    }
    const transfer = await this.rest.call<Transfer>('GET', `/api/transfers/${this.transferId}`);
    const action = NEXT_STEP[transfer.status];
    if (!action) {
      this.transferId = null;
      return;
    }
    // Picking needs the source's reservation, which the inventory service makes from the approval event.
    if (action === 'start-picking' && transfer.reservationStatus !== 'reserved') return;
    const body =
      action === 'receive'
        ? {
            lines: transfer.lines.map((l) => ({
              lineId: l.lineId,
              receivedQuantity: l.shippedQuantity ?? l.quantity,
            })),
          }
        : {};
    await this.rest.call('POST', `/api/transfers/${transfer.transferId}/${action}`, body);
  }

  private async requestTransfer(): Promise<void> {
    const source = pick(this.records.filter((r) => r.quantityAvailable >= 5));
    const warehouses = [...new Set(this.records.map((r) => r.warehouseId))];
    const destination = pick(warehouses.filter((w) => w !== source?.warehouseId));
    if (!source || !destination) return;
    const transfer = await this.rest.call<Transfer>('POST', '/api/transfers', {
      sourceWarehouseId: source.warehouseId,
      destinationWarehouseId: destination,
      note: ACTIVITY_NOTE,
      lines: [
        {
          productId: source.productId,
          variantId: source.variantId,
          uomId: source.uomId,
          quantity: between(1, 3),
        },
      ],
    });
    this.transferId = transfer.transferId;
  }
}
