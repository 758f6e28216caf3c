import type { InventoryRecord } from '@inv/contracts';

/**
 * Which page of stock records the stock view shows: the server's keyset pages of `GET /api/inventory` (inventory
 * id order, optionally one warehouse), walked forwards by `nextCursor` and back by the cursors kept on the way.
 * The view never holds more than a page: at a million records the browser gets 100 of them at a time, and the
 * warehouse filter is the server's.
 */
export class StockPages {
  warehouse = '';
  /** The server's cursor after the page shown, null on the last page. */
  nextCursor: string | null = null;
  /** The `after` of every page up to the one shown: [null] on the first. */
  private afters: (string | null)[] = [null];

  constructor(readonly limit = 100) {}

  /** The query for the page shown. */
  get query(): { warehouseId?: string; after?: string; limit: number } {
    const after = this.afters.at(-1);
    return {
      limit: this.limit,
      ...(this.warehouse ? { warehouseId: this.warehouse } : {}),
      ...(after ? { after } : {}),
    };
  }

  get number(): number {
    return this.afters.length;
  }

  get hasPrevious(): boolean {
    return this.afters.length > 1;
  }

  get hasNext(): boolean {
    return this.nextCursor !== null;
  }

  /** To the next page; its own next cursor is unknown until it arrives, so a second click waits for it. */
  next(): void {
    if (this.nextCursor === null) return;
    this.afters.push(this.nextCursor);
    this.nextCursor = null;
  }

  previous(): void {
    if (this.afters.length < 2) return;
    this.afters.pop();
    this.nextCursor = null;
  }

  /** Shows one warehouse ('' for all) from its first page. */
  filter(warehouse: string): void {
    this.warehouse = warehouse;
    this.afters = [null];
    this.nextCursor = null;
  }

  /**
   * Whether a record an event names and the page does not show belongs on it: only a new one (its first version)
   * does, as ids grow with time and a new record sorts after every other: it joins the last page, when it is of
   * the warehouse shown. Any other record not shown is on another page.
   */
  admits(record: InventoryRecord): boolean {
    return (
      record.version === 1 &&
      this.nextCursor === null &&
      (!this.warehouse || record.warehouseId === this.warehouse)
    );
  }
}
