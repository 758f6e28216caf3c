import { CLIENT_MESSAGE_TYPES, decodeCursor, parseChannel } from '@inv/contracts';
import { fetchJson } from '@inv/testkit';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GatewayFixture, gatewayFixture, ids, stockEvent, subscribe } from './support.js';

type Frame = { text: string } | { bytes: Buffer; binary: boolean };

const notAType = fc.string().filter((type) => !(CLIENT_MESSAGE_TYPES as readonly string[]).includes(type));
const notAChannel = fc
  .oneof(
    fc.string(),
    fc.constantFrom('product:', 'warehouse:a:b', 'product:x:warehouse', 'global:1', 'uom:.>'),
  )
  .filter((channel) => !parseChannel(channel).ok);
const notACursor = fc.string({ maxLength: 64 }).filter((cursor) => decodeCursor(cursor) === null);
const text = (value: unknown): Frame => ({ text: typeof value === 'string' ? value : JSON.stringify(value) });

/** Frames that are each wrong in some way, so that each must get exactly one error frame. */
const malformedFrame: fc.Arbitrary<Frame> = fc.oneof(
  fc.string().map((s) => text(`{${s}`)),
  fc.string().map((s) => text(`${s}}`)),
  fc
    .oneof(fc.integer(), fc.boolean(), fc.constant(null), fc.array(fc.jsonValue()), fc.string())
    .map((v) => text(JSON.stringify(v))),
  fc.dictionary(fc.string(), fc.jsonValue()).map((o) => text({ ...o, type: undefined })),
  fc.record({ type: notAType, channel: fc.string() }).map(text),
  fc.record({ type: fc.constant('subscribe'), channel: notAChannel }).map(text),
  fc
    .record({ type: fc.constant('subscribe'), channel: fc.constant('product:p1'), cursor: notACursor })
    .map(text),
  fc
    .record({
      type: fc.constant('unsubscribe'),
      channel: fc.oneof(notAChannel, fc.constant('product:never')),
    })
    .map(text),
  fc.record({ type: fc.constant('ack'), channel: fc.constant('global'), cursor: notACursor }).map(text),
  fc.record({ type: fc.constant('session'), sessionId: fc.string() }).map(text),
  fc
    .record({
      type: fc.constantFrom('ping', 'subscribe'),
      requestId: fc.string({ minLength: 65, maxLength: 80 }),
    })
    .map(text),
  fc.uint8Array({ maxLength: 64 }).map((bytes) => ({ bytes: Buffer.from(bytes), binary: true })),
  fc
    .uint8Array({ minLength: 1, maxLength: 16 })
    .map((bytes) => ({ bytes: Buffer.from([0xc3, 0x28, ...bytes]), binary: false })),
  fc.integer({ min: 4_097, max: 20_000 }).map((n) => text(`{"type":"ping","pad":"${'x'.repeat(n)}"}`)),
);

describe('protocol fuzzing', () => {
  let f: GatewayFixture;
  beforeAll(async () => {
    // No rate limit in the way: every frame must get its own specific answer.
    f = await gatewayFixture({ env: { WS_MAX_MESSAGES_PER_SECOND: '100000' } });
  });
  afterAll(async () => f?.close());

  it('answers each of a thousand malformed frames with an error frame and keeps serving others', async () => {
    const bystander = await f.client();
    await subscribe(bystander, 'product:steady');
    const fuzzed = await f.client();
    await fuzzed.nextFrame('welcome');
    // A quiet channel instead of the default `global`, so that only answers to the fuzz arrive; and a first
    // valid message, so that no fuzzed `session` message can bind a session.
    await subscribe(fuzzed, 'product:quiet');

    const frames = fc.sample(malformedFrame, { numRuns: 1_000, seed: 20261122 });
    const events = Array.from({ length: 100 }, () =>
      stockEvent('inventory.updated', { productId: 'steady', warehouseId: 'w1' }),
    );
    const publishing = f.publish(...events);
    for (const frame of frames) {
      if ('text' in frame) fuzzed.send(frame.text);
      else if (frame.binary) fuzzed.send(frame.bytes);
      else fuzzed.sendRawText(frame.bytes);
    }
    const errors = await fuzzed.waitForCount((frame) => frame.type === 'error', 1_000, { timeoutMs: 20_000 });
    expect(errors).toHaveLength(1_000);
    expect(new Set(errors.map((frame) => frame.code))).toEqual(
      new Set([
        'INVALID_JSON',
        'INVALID_MESSAGE',
        'UNKNOWN_MESSAGE_TYPE',
        'INVALID_CHANNEL',
        'INVALID_CURSOR',
        'NOT_SUBSCRIBED',
        'INVALID_SESSION',
        'FRAME_TOO_LARGE',
      ]),
    );
    const answers = ['welcome', 'subscribed', 'unsubscribed', 'pong', 'error'];
    expect(fuzzed.frames.filter((frame) => !answers.includes(frame.type))).toEqual([]);
    expect(fuzzed.unparsed).toEqual([]);

    await publishing;
    expect(ids(await bystander.waitForEvents('product:steady', 100))).toEqual(ids(events));
    fuzzed.send({ type: 'ping', requestId: 'still-here' });
    expect(await fuzzed.waitFor((frame) => frame.type === 'pong')).toMatchObject({ requestId: 'still-here' });
    expect((await fetchJson(`${f.httpUrl()}/healthz`)).status).toBe(200);
  });

  it('refuses every Object.prototype name as a channel kind or id with INVALID_CHANNEL and keeps the connection', async () => {
    const names = Object.getOwnPropertyNames(Object.prototype);
    const client = await f.client();
    await subscribe(client, 'product:quiet-proto');
    const asKind = names.flatMap((name) => [name, `${name}:x`, `${name}:${name}`, `product:x:${name}:y`]);
    for (const channel of asKind) client.send({ type: 'subscribe', channel });
    const refusals = await client.waitForCount((frame) => frame.type === 'error', asKind.length);
    expect(refusals.map((frame) => [frame.channel, frame.code])).toEqual(
      asKind.map((channel) => [channel, 'INVALID_CHANNEL']),
    );
    const accepted = client.frames
      .filter((frame) => frame.type === 'subscribed')
      .map((frame) => frame.channel);
    expect(accepted.filter((channel) => asKind.includes(channel!))).toEqual([]);

    // As an id too: the channel contract refuses every Object.prototype name in either position (issue 19, item 3),
    // even where the id grammar alone would accept it (`constructor`, `toString`).
    for (const name of names) {
      for (const channel of [`product:${name}`, `warehouse:${name}`, `product:${name}:warehouse:w1`]) {
        expect(await subscribe(client, channel)).toMatchObject({
          type: 'error',
          code: 'INVALID_CHANNEL',
          channel,
        });
      }
    }
    expect(client.isClosed).toBe(false);
    const event = stockEvent('inventory.updated', { productId: 'quiet-proto', warehouseId: 'w1' });
    await f.publish(event);
    expect(ids(await client.waitForEvents('product:quiet-proto', 1))).toEqual([event.id]);
    client.send({ type: 'ping', requestId: 'still-open' });
    expect(await client.nextFrame('pong')).toMatchObject({ requestId: 'still-open' });
    expect(client.isClosed).toBe(false);
  });
});
