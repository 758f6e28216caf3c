import { DURABLE_CONSUMERS, EVENTS_STREAM, EVENTS_SUBJECTS } from '@inv/contracts';
import { ensureDurableConsumer } from '@inv/platform';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type NatsFixture,
  natsFixture,
  publishEvents,
  runCli,
  stockUpdated,
  transferEvent,
} from './support.js';

describe('invctl streams', () => {
  let f: NatsFixture;

  beforeAll(async () => {
    f = await natsFixture();
  });
  afterAll(async () => {
    await f?.close();
  });

  it('reports messages, bytes, sequences, times and consumers with their lag', async () => {
    const events = [
      ...Array.from({ length: 20 }, (_, i) => stockUpdated({ productId: `p${i}`, warehouseId: 'w1' }, 1)),
      ...Array.from({ length: 5 }, (_, i) =>
        transferEvent('transfer.requested', { transferId: `t${i}`, from: 'w1', to: 'w2' }, 1),
      ),
    ];
    await publishEvents(f.nc, events);
    const { name, filterSubject } = DURABLE_CONSUMERS.inventoryTransfers;
    await ensureDurableConsumer(f.jsm, { name, filterSubject });
    const info = await f.jsm.streams.info(EVENTS_STREAM);

    const result = await f.cli(['streams', '--consumers', '--json']);
    expect(result.code).toBe(0);
    const [events_] = JSON.parse(result.stdout);
    expect(events_).toMatchObject({
      name: EVENTS_STREAM,
      subjects: [...EVENTS_SUBJECTS],
      messages: 25,
      bytes: info.state.bytes,
      firstSeq: 1,
      lastSeq: 25,
      firstTime: new Date(info.state.first_ts).toISOString(),
      lastTime: new Date(info.state.last_ts).toISOString(),
      consumerCount: 1,
      consumers: [
        {
          name,
          filterSubject,
          durable: true,
          pending: 5,
          ackPending: 0,
          lag: 5,
          redelivered: 0,
          deliveredSeq: 0,
          ackFloorSeq: 0,
        },
      ],
    });

    const table = await f.cli(['streams', '--consumers']);
    expect(table.stdout).toMatch(/EVENTS\s+inventory\.>,transfer\.>,webhooks\.>\s+25\s/);
    expect(table.stdout).toMatch(new RegExp(`EVENTS\\s+${name}\\s+transfer\\.>\\s+5\\s+0\\s+5`));
  });

  it('fails with exit code 3 and a clear message when NATS is not there', async () => {
    const result = await runCli(['streams', '--nats', 'nats://127.0.0.1:1']);
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('NATS is not reachable at nats://127.0.0.1:1');
  });
});
