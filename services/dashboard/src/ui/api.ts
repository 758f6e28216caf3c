import type {
  AdjustRequest,
  AdjustResponse,
  Batch,
  ErrorBody,
  InventoryRecord,
  Movement,
  Reservation,
  Transfer,
  TransferAction,
} from '@inv/contracts';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: ErrorBody,
  ) {
    super(body.message);
  }
}

/** REST calls to the inventory and transfer services through the dashboard server's origin. */
export class Api {
  constructor(private readonly token: () => string | null) {}

  private async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = {};
    const token = this.token();
    if (token) headers.authorization = `Bearer ${token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    // A retried click (double click, flaky network) must not apply twice.
    if (method === 'POST') headers['idempotency-key'] = crypto.randomUUID();
    const response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const json = (await response.json().catch(() => null)) as unknown;
    if (!response.ok) {
      const fallback = {
        code: 'HTTP_ERROR',
        message: `HTTP ${response.status}`,
        error: `HTTP ${response.status}`,
      };
      throw new ApiError(response.status, (json as ErrorBody) ?? fallback);
    }
    return json as T;
  }

  /** One page of stock records (inventory id order), of one warehouse or all: the stock view's page. */
  async inventoryPage(query: {
    warehouseId?: string;
    after?: string;
    limit: number;
  }): Promise<{ items: InventoryRecord[]; nextCursor: string | null }> {
    const params = new URLSearchParams({ limit: String(query.limit) });
    if (query.warehouseId) params.set('warehouseId', query.warehouseId);
    if (query.after) params.set('after', query.after);
    const page = await this.call<{ items: InventoryRecord[]; page: { nextCursor: string | null } }>(
      'GET',
      `/api/inventory?${params}`,
    );
    return { items: page.items, nextCursor: page.page.nextCursor };
  }

  /** The first page of warehouse or product summaries (ids only are used, for the pickers). */
  async catalog(kind: 'warehouses' | 'products'): Promise<string[]> {
    const page = await this.call<{ items: { warehouseId?: string; productId?: string }[] }>(
      'GET',
      `/api/${kind}?limit=200`,
    );
    return page.items.map((item) => item.warehouseId ?? item.productId ?? '');
  }

  /** The newest movements of one record (its ledger), newest first as the service pages them. */
  async movements(inventoryId: string): Promise<Movement[]> {
    const page = await this.call<{ items: Movement[] }>(
      'GET',
      `/api/inventory/${encodeURIComponent(inventoryId)}/movements?limit=50`,
    );
    return page.items;
  }

  /** A record's batches, soonest expiry first. */
  async batches(inventoryId: string): Promise<Batch[]> {
    const page = await this.call<{ items: Batch[] }>(
      'GET',
      `/api/inventory/${encodeURIComponent(inventoryId)}/batches?limit=50`,
    );
    return page.items;
  }

  /** Every active order reservation (a few pages at most on a dashboard). */
  async activeReservations(): Promise<Reservation[]> {
    const items: Reservation[] = [];
    let after: string | null = null;
    do {
      const cursor: string = after ? `&after=${encodeURIComponent(after)}` : '';
      const page = await this.call<{ items: Reservation[]; page: { nextCursor: string | null } }>(
        'GET',
        `/api/reservations?status=active&limit=200${cursor}`,
      );
      items.push(...page.items);
      after = page.page.nextCursor;
    } while (after && items.length < 2_000);
    return items;
  }

  releaseReservation(reservationId: string, reason: string): Promise<Reservation> {
    return this.call('POST', `/api/reservations/${encodeURIComponent(reservationId)}/release`, { reason });
  }

  adjust(body: AdjustRequest): Promise<AdjustResponse> {
    return this.call('POST', '/api/inventory/adjust', body);
  }

  async recentTransfers(): Promise<Transfer[]> {
    const page = await this.call<{ items: Transfer[] }>('GET', '/api/transfers?limit=200');
    return page.items;
  }

  createTransfer(body: unknown): Promise<Transfer> {
    return this.call('POST', '/api/transfers', body);
  }

  transition(transferId: string, action: TransferAction, body: Record<string, unknown>): Promise<Transfer> {
    return this.call('POST', `/api/transfers/${encodeURIComponent(transferId)}/${action}`, body);
  }
}
