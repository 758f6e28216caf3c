import { eventually, fetchJson } from '@inv/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GatewayFixture, gatewayFixture, ids, stockEvent, subscribe, transferEvent } from './support.js';
import { TcpProxy } from './tcp-proxy.js';

describe('gateway losing its NATS connection', () => {
  let f: GatewayFixture;
  let proxy: TcpProxy;
  beforeAll(async () => {
    f = await gatewayFixture({ instances: 0 });
    proxy = await TcpProxy.start(f.nats.server!.port);
    await f.startGateway({ NATS_URL: proxy.url });
  });
  afterAll(async () => {
    await f?.close();
    await proxy?.stop();
  });

  it('fills what was published during the outage from the stream: no gap, no duplicate', async () => {
    const product = await f.client();
    const warehouse = await f.client();
    await subscribe(product, 'product:gap');
    await subscribe(warehouse, 'warehouse:wg');
    const stock = () => stockEvent('inventory.updated', { productId: 'gap', warehouseId: 'wg' });
    const transfer = (i: number) =>
      transferEvent('transfer.shipped', { transferId: `tg${i}`, from: 'wg', to: 'w9' });

    const before = [stock(), transfer(0), stock()];
    await f.publish(...before);
    await product.waitForEvents('product:gap', 2);

    proxy.cut();
    const during = Array.from({ length: 60 }, (_, i) => (i % 2 ? stock() : transfer(i)));
    await f.publish(...during);
    proxy.restore();
    // Live again once the gateway answers readiness through its new connection.
    await eventually(async () => (await fetchJson(`${f.httpUrl()}/readyz`)).status === 200);
    const after = [stock(), transfer(100)];
    await f.publish(...after);

    const all = [...before, ...during, ...after];
    const ofProduct = all.filter((event) => event.type === 'inventory.updated');
    expect(ids(await product.waitForEvents('product:gap', ofProduct.length))).toEqual(ids(ofProduct));
    expect(ids(await warehouse.waitForEvents('warehouse:wg', all.length))).toEqual(ids(all));
    const metrics = (await fetchJson<string>(`${f.httpUrl()}/metrics`)).body;
    expect(metrics).toMatch(/gateway_backfills_total\{service="gateway"\} [1-9]/);
  });
});
