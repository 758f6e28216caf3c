import type { AdjustResponse, ErrorBody } from '@inv/contracts';
import { type BenchRecord, timedReason } from './events.js';
import { httpRequest, jsonOf } from './http.js';
import { paced } from './pace.js';
import { now, Samples } from './stats.js';

export interface AdjustOutcome {
  status: number;
  ms: number;
  version: number | null;
  /** On 409: the version the record is at, from the error details. */
  currentVersion: number | null;
}

/** `POST /api/inventory/adjust` of one unit in, as a client of the REST API would send it. */
export async function postAdjust(
  baseUrl: string,
  token: string,
  record: BenchRecord,
  options: { reason?: string; expectedVersion?: number; quantity?: number } = {},
): Promise<AdjustOutcome> {
  const started = now();
  const answer = await httpRequest(`${baseUrl}/api/inventory/adjust`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      ...record,
      quantity: options.quantity ?? 1,
      movementType: 'in',
      reason: options.reason ?? null,
      expectedVersion: options.expectedVersion,
    }),
  });
  const body = jsonOf<unknown>(answer);
  const ms = now() - started;
  if (answer.status === 200) {
    return { status: 200, ms, version: (body as AdjustResponse).inventory.version, currentVersion: null };
  }
  // A stale version is refused with the version the record is at (OPTIMISTIC_LOCK_FAILURE, STALE_VERSION).
  const details = (body as ErrorBody | null)?.details as { currentVersion?: number } | undefined;
  return { status: answer.status, ms, version: null, currentVersion: details?.currentVersion ?? null };
}

/** `count` records of one product, warehouses `w-0` … . */
export function benchRecords(productId: string, count: number): BenchRecord[] {
  return Array.from({ length: count }, (_, i) => ({ productId, warehouseId: `w-${i}` }));
}

export interface AdjustLoad {
  /** HTTP latency of the adjusts that succeeded (after the warm-up, when there is one). */
  http: Samples;
  /** HTTP latency of the adjusts sent in the warm-up that succeeded. */
  warmup: Samples;
  /** Adjusts that failed, or were not sent because too many were in flight. */
  failed: number;
  /** Successful adjusts per second over the run. */
  achievedRate: number;
}

/**
 * Open-loop adjusts at `rate` per second, round-robin over `records` (enough of them and no contention), each
 * stamped with its send time in `reason` when `timed`. At most 256 in flight. Those sent in the first
 * `warmupMs` are kept apart (`warmup`); the achieved rate counts every success.
 */
export async function adjustAtRate(
  baseUrl: string,
  token: string,
  records: BenchRecord[],
  options: {
    rate: number;
    durationMs: number;
    timed: boolean;
    warmupMs?: number;
    /** Told of each success of a timed run: its `reason` and when its answer arrived (the commit, as seen). */
    answered?: (reason: string, at: number) => void;
  },
): Promise<AdjustLoad> {
  const http = new Samples();
  const warmup = new Samples();
  const warmupCount = Math.round((options.rate * (options.warmupMs ?? 0)) / 1000);
  let failed = 0;
  const sent = await paced(
    options.rate,
    options.durationMs,
    async (i) => {
      const reason = options.timed ? timedReason(now()) : undefined;
      const outcome = await postAdjust(baseUrl, token, records[i % records.length]!, { reason });
      if (outcome.status === 200) {
        (i < warmupCount ? warmup : http).push(outcome.ms);
        if (reason !== undefined) options.answered?.(reason, now());
      } else failed++;
    },
    256,
  );
  const succeeded = http.length + warmup.length;
  return { http, warmup, failed: failed + sent.skipped, achievedRate: (succeeded / sent.elapsedMs) * 1000 };
}
