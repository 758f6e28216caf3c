import { EVENTS_STREAM } from '@inv/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GatewayFixture, gatewayFixture, ids, stockEvent, subscribe } from './support.js';

describe('cursors older than the retention', () => {
  let f: GatewayFixture;
  beforeAll(async () => {
    f = await gatewayFixture();
  });
  afterAll(async () => f?.close());

  it('gets reset (cursor_expired), never a silent gap, and live events after', async () => {
    const client = await f.client();
    await subscribe(client, 'product:old');
    const events = Array.from({ length: 10 }, () =>
      stockEvent('inventory.updated', { productId: 'old', warehouseId: 'w1' }),
    );
    await f.publish(...events);
    const seen = await client.waitForEvents('product:old', 10);
    await client.close();
    // Retention removes the oldest events: the same as the stream's age limit passing them by.
    await f.jsm.streams.purge(EVENTS_STREAM, { keep: 3 });

    const resumed = await f.client();
    resumed.send({ type: 'subscribe', channel: 'product:old', cursor: seen[2]!.cursor });
    const reset = await resumed.nextFrame('reset');
    expect(reset).toMatchObject({ channel: 'product:old', reason: 'cursor_expired' });
    expect(resumed.events('product:old')).toEqual([]);

    // A cursor whose next event is still stored resumes normally.
    const fine = await f.client();
    await subscribe(fine, 'product:old', seen[6]!.cursor);
    await fine.nextFrame('live');
    expect(ids(fine.events('product:old'))).toEqual(ids(events.slice(7)));

    const next = stockEvent('inventory.low_stock', { productId: 'old', warehouseId: 'w1' });
    await f.publish(next);
    expect(await resumed.waitFor((frame) => frame.id === next.id)).toMatchObject({ channel: 'product:old' });
  });
});
