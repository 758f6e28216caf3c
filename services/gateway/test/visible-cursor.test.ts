import { decodeCursor, encodeCursor } from '@inv/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GatewayFixture, gatewayFixture, ids, stockEvent, subscribe, transferEvent } from './support.js';

const seqOf = (cursor: unknown) => decodeCursor(cursor as string)!.seq;

describe('cursors of callers that see only some warehouses', () => {
  let f: GatewayFixture;
  beforeAll(async () => {
    f = await gatewayFixture({ instances: 2 });
  });
  afterAll(async () => f?.close());

  it('gives a broad channel a cursor at the newest event the caller may see, never a later position', async () => {
    const [visibleSeq] = await f.publish(
      stockEvent('inventory.updated', { productId: 'pc', warehouseId: 'wa' }),
    );
    const hidden = await f.publish(
      ...Array.from({ length: 5 }, () =>
        stockEvent('inventory.updated', { productId: 'pc', warehouseId: 'wb' }),
      ),
      transferEvent('transfer.shipped', { transferId: 'tc', from: 'wb', to: 'wc' }),
    );
    const limited = await f.client({ claims: { warehouses: ['wa'] } });
    const everything = await f.client();
    for (const channel of ['global', 'product:pc']) {
      expect(seqOf((await subscribe(limited, channel)).cursor)).toBe(visibleSeq);
      // A caller that sees every warehouse gets the stream's position, as before.
      expect(seqOf((await subscribe(everything, channel)).cursor)).toBe(hidden.at(-1));
    }
  });

  it('resumes from such a cursor with exactly the events the caller may see that came after', async () => {
    const claims = { warehouses: ['wr'] };
    await f.publish(stockEvent('inventory.updated', { productId: 'pr', warehouseId: 'wr' }));
    const first = await f.client({ claims });
    const cursor = (await subscribe(first, 'global')).cursor as string;
    const later = [
      stockEvent('inventory.updated', { productId: 'pr', warehouseId: 'elsewhere' }),
      stockEvent('inventory.updated', { productId: 'pr', warehouseId: 'wr' }),
      transferEvent('transfer.requested', { transferId: 'tr', from: 'elsewhere', to: 'wr' }),
    ];
    await f.publish(...later);
    expect(ids(await first.waitForEvents('global', 2))).toEqual(ids(later.slice(1)));

    const second = await f.client({ instance: 1, claims });
    // The connection's default `global` may be confirmed (at the newest visible event) before this resume replaces
    // it: the answer to this request is the frame carrying its requestId.
    second.send({ type: 'subscribe', channel: 'global', cursor, requestId: 'resume' });
    expect(
      await second.waitFor((frame) => frame.requestId === 'resume' && frame.channel === 'global'),
    ).toMatchObject({ type: 'subscribed', cursor });
    await second.waitFor((frame) => frame.type === 'live' && frame.channel === 'global');
    expect(ids(second.events('global'))).toEqual(ids(later.slice(1)));
  });

  it('gives a caller with no visible event in the stream a cursor that reveals no position', async () => {
    const stream = await f.jsm.streams.info('EVENTS');
    const client = await f.client({ claims: { warehouses: ['never-used'] } });
    expect(seqOf((await subscribe(client, 'global')).cursor)).toBe(Math.max(0, stream.state.first_seq - 1));
  });

  it('names no hidden position in the reset of such a caller either', async () => {
    const [visibleSeq] = await f.publish(
      stockEvent('inventory.updated', { productId: 'px', warehouseId: 'wx' }),
    );
    await f.publish(stockEvent('inventory.updated', { productId: 'px', warehouseId: 'wy' }));
    const client = await f.client({ claims: { warehouses: ['wx'] } });
    const otherEpoch = encodeCursor({ seq: 1, epoch: 1 });
    const reset = await subscribe(client, 'product:px', otherEpoch);
    expect(reset).toMatchObject({ type: 'reset', reason: 'stream_recreated' });
    expect(seqOf(reset.cursor)).toBe(visibleSeq);
    const next = stockEvent('inventory.updated', { productId: 'px', warehouseId: 'wx' });
    await f.publish(stockEvent('inventory.updated', { productId: 'px', warehouseId: 'wy' }), next);
    expect(ids(await client.waitForEvents('product:px', 1))).toEqual([next.id]);
  });
});
