import { afterEach, describe, expect, it, vi } from 'vitest';
import { Store } from './store.js';

/** A `transfer.<status>` event of transfer `t-<n>`, `n` seconds into the day. */
function transferEvent(n: number, status: 'completed' | 'approved') {
  const at = new Date(Date.UTC(2026, 0, 1, 0, 0, n)).toISOString();
  return {
    id: `e-${n}`,
    channel: 'global',
    cursor: `c-${n}`,
    type: `transfer.${status}`,
    occurredAt: at,
    data: {
      transferId: `t-${n}`,
      sourceWarehouseId: 'A',
      destinationWarehouseId: 'B',
      status,
      previousStatus: 'requested',
      reservationStatus: 'pending',
      version: 2,
      lines: [],
      actor: 'someone',
      reason: null,
      timestamp: at,
    },
  } as never;
}

describe('the dashboard store over a long session', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('forgets the oldest finished transfers past 200, never an open one', () => {
    vi.stubGlobal('requestAnimationFrame', () => 0);
    const store = new Store();
    for (let n = 0; n < 50; n++) store.apply(transferEvent(n, 'approved'));
    for (let n = 50; n < 5_000; n++) store.apply(transferEvent(n, 'completed'));
    expect(store.transfers.size).toBe(200);
    const kept = [...store.transfers.keys()];
    // The 50 open ones, then the newest 150 finished.
    for (let n = 0; n < 50; n++) expect(kept).toContain(`t-${n}`);
    expect(kept).toContain('t-4999');
    expect(kept).not.toContain('t-4849');
    expect(store.feed).toHaveLength(100);
  });
});
