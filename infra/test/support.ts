import type { DomainEvent } from '@inv/contracts';
import { eventually, fetchJson, type JsonReply, readStoredEvents, type StoredEvent } from '@inv/testkit';
import type { NatsConnection } from '@nats-io/nats-core';
import pg from 'pg';

type Updated = Extract<DomainEvent, { type: 'inventory.updated' }>;

/** Rows of one query on a database, with a connection of its own. */
export async function sql<T = Record<string, unknown>>(url: string, query: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query(query)).rows as T[];
  } finally {
    await client.end();
  }
}

/** Waits until a service's relay has published everything in its outbox. */
export async function outboxDrained(databaseUrl: string, timeoutMs = 90_000): Promise<void> {
  await eventually(
    async () => {
      const [row] = await sql<{ n: number }>(
        databaseUrl,
        'select count(*)::int as n from outbox where published_at is null',
      );
      return row?.n === 0;
    },
    { timeoutMs, intervalMs: 200, message: 'the outbox to drain' },
  );
}

export interface StormOptions {
  inventoryUrl: string;
  token: string;
  writers: number;
  /** Adjusts each writer sends; or run until `until` says stop. */
  perWriter?: number;
  until?: () => boolean;
  /** Records the writers share: writer w's n-th adjust goes to record (w + n * writers) % records. */
  records: number;
  prefix: string;
  /** Called after every answer, e.g. to trigger a fault after N adjusts. */
  onReply?: (reply: JsonReply, done: number) => void;
}

export interface StormResult {
  statuses: Map<number, number>;
  /** Answers that were not a clean success or a clean refusal: a 500, no code, or no answer at all. */
  unclean: string[];
  applied: number;
  /** Per product, how many adjusts were applied. */
  appliedPer: Map<string, number>;
}

/**
 * Concurrent writers each sending `in` adjusts of 1 as fast as answers come, like the benchmark's write load.
 * Every answer is counted by status; an answer that is neither 200 nor a 4xx/503 with a code is "unclean".
 */
export async function adjustStorm(options: StormOptions): Promise<StormResult> {
  const result: StormResult = { statuses: new Map(), unclean: [], applied: 0, appliedPer: new Map() };
  let done = 0;
  const writer = async (index: number) => {
    for (let i = 0; options.perWriter === undefined ? !options.until?.() : i < options.perWriter; i++) {
      const productId = `${options.prefix}-${(index + i * options.writers) % options.records}`;
      const reply = await fetchJson<{ code?: string }>(`${options.inventoryUrl}/api/inventory/adjust`, {
        method: 'POST',
        token: options.token,
        body: { productId, warehouseId: 'wh-1', quantity: 1, movementType: 'in' },
        // An answer later than this counts as a hang.
        timeoutMs: 15_000,
      }).catch((error: Error) => ({
        status: 0,
        body: { code: undefined, message: error.message },
        headers: new Headers(),
      }));
      result.statuses.set(reply.status, (result.statuses.get(reply.status) ?? 0) + 1);
      if (reply.status === 200) {
        result.applied++;
        result.appliedPer.set(productId, (result.appliedPer.get(productId) ?? 0) + 1);
      } else if (reply.status === 0 || (reply.status >= 500 && reply.status !== 503) || !reply.body?.code) {
        result.unclean.push(`${reply.status} ${JSON.stringify(reply.body).slice(0, 200)}`);
      }
      options.onReply?.(reply, ++done);
    }
  };
  await Promise.all(Array.from({ length: options.writers }, (_, i) => writer(i)));
  return result;
}

/**
 * Checks what the stream holds for the storm's records: each `inventory.updated` once (by event id and by
 * message id), and per record the versions 1..n in stream order. Returns the number of events checked.
 */
export function checkStockEvents(stored: StoredEvent[], appliedPer: Map<string, number>): number {
  const ids = stored.map((s) => s.event.id);
  if (new Set(ids).size !== ids.length) throw new Error(`${ids.length - new Set(ids).size} duplicate events`);
  let checked = 0;
  for (const [productId, applied] of appliedPer) {
    const versions = stored
      .map((s) => s.event)
      .filter((e): e is Updated => e.type === 'inventory.updated' && e.data.productId === productId)
      .map((e) => e.data.version);
    const expected = Array.from({ length: applied }, (_, i) => i + 1);
    if (versions.join() !== expected.join()) {
      throw new Error(
        `${productId}: ${applied} applied but versions in the stream are ${summarise(versions)}`,
      );
    }
    checked += versions.length;
  }
  return checked;
}

function summarise(versions: number[]): string {
  const out: string[] = [];
  for (let i = 1; i < versions.length; i++) {
    if (versions[i] !== versions[i - 1]! + 1) out.push(`${versions[i - 1]}→${versions[i]}`);
  }
  return `${versions.length} long, breaks at ${out.slice(0, 10).join(', ') || 'none'}`;
}

/** Waits until a service says it is ready (every dependency answers). */
export async function ready(url: string, timeoutMs = 60_000): Promise<void> {
  await eventually(async () => (await fetchJson(`${url}/readyz`)).status === 200, {
    timeoutMs,
    intervalMs: 200,
    message: `${url} to be ready`,
  });
}

/**
 * A fault injected into a storm: `down` once `start` answers have been given, `up` once `length` more have (or
 * when the storm ends first). Pass `onReply` to the storm and await `settled()` after it.
 */
export function faultDuring(
  window: { start: number; length: number },
  fault: { down: () => Promise<void>; up: () => Promise<void> },
): { onReply: (reply: JsonReply, done: number) => void; settled: () => Promise<void> } {
  let down: Promise<void> | null = null;
  let up: Promise<void> | null = null;
  const recover = () => {
    up ??= (down ?? Promise.resolve()).then(fault.up);
    return up;
  };
  return {
    onReply(_reply, done) {
      if (done === window.start) down = fault.down();
      if (done === window.start + window.length) void recover();
    },
    async settled() {
      if (down) await recover();
    },
  };
}

/**
 * `readStoredEvents`, tried again while the JetStream API times out: right after a node loss the cluster may
 * still be electing leaders for a few seconds.
 */
export function storedEventsOnceAnswered(nc: NatsConnection, filter: string): Promise<StoredEvent[]> {
  return eventually(() => readStoredEvents(nc, filter), {
    timeoutMs: 60_000,
    intervalMs: 500,
    message: `the stream to answer for ${filter}`,
  });
}
