import type { DashboardConfig } from './config.js';

/** REST calls to the inventory and transfer services, as an outside client makes them. */
export interface Rest {
  call<T = Record<string, unknown>>(
    method: string,
    path: string,
    body?: unknown,
    idempotencyKey?: string,
  ): Promise<T>;
}

/** A failed call, with the service's error code (e.g. INSUFFICIENT_STOCK) to tell expected refusals apart. */
export class RestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export function restClient(
  config: Pick<DashboardConfig, 'INVENTORY_URL' | 'TRANSFER_URL'>,
  token: () => Promise<string>,
): Rest {
  return {
    async call<T>(method: string, path: string, body?: unknown, idempotencyKey?: string): Promise<T> {
      const base = path.startsWith('/api/transfers') ? config.TRANSFER_URL : config.INVENTORY_URL;
      const headers: Record<string, string> = { authorization: `Bearer ${await token()}` };
      if (body !== undefined) headers['content-type'] = 'application/json';
      if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
      const response = await fetch(`${base}${path}`, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
      });
      const json = (await response.json()) as T & { code?: string };
      if (!response.ok) {
        const text = `${method} ${path}: ${response.status} ${JSON.stringify(json)}`;
        throw new RestError(response.status, json?.code ?? 'HTTP_ERROR', text);
      }
      return json;
    },
  };
}
