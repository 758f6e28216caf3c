import { WS_BATCH, WS_CLOSE } from '@inv/contracts';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { FakeSocket, LIMITS, settled } from '../../test/fakes.js';
import type { ConnectionLimits } from '../config.js';
import { scopeOf } from '../domain/access.js';
import { createGatewayMetrics } from '../infra/metrics.js';
import { Connection } from './connection.js';

function connect(options: { batching: boolean; limits?: ConnectionLimits }) {
  const socket = new FakeSocket();
  const connection = new Connection(
    'c1',
    socket,
    'inventory',
    scopeOf({ warehouses: ['*'] }),
    'user',
    options.limits ?? LIMITS,
    createGatewayMetrics(new Registry()),
  );
  connection.batching = options.batching;
  return { socket, connection };
}

const frame = (n: number, pad = 0) => Buffer.from(JSON.stringify({ type: 'test', n, pad: 'x'.repeat(pad) }));
const numbers = (socket: FakeSocket) => socket.frames.map((f) => f.n);

describe('frames a connection sends', () => {
  it("sends a batching client's burst of frames as one message, in order, once the burst is over", async () => {
    const { socket, connection } = connect({ batching: true });
    for (let n = 1; n <= 3; n++) connection.send(frame(n));
    expect(socket.messages).toEqual([]);
    await settled();
    expect(socket.messages).toEqual([3]);
    expect(numbers(socket)).toEqual([1, 2, 3]);
  });

  it('sends one frame per message to a client that did not ask for batches', async () => {
    const { socket, connection } = connect({ batching: false });
    for (let n = 1; n <= 3; n++) connection.send(frame(n));
    await settled();
    expect(socket.messages).toEqual([1, 1, 1]);
    expect(numbers(socket)).toEqual([1, 2, 3]);
  });

  it('starts another message where the next frame would take one past its size', async () => {
    const { socket, connection } = connect({ batching: true });
    const pad = Math.floor(WS_BATCH.maxMessageBytes / 3);
    for (let n = 1; n <= 4; n++) connection.send(frame(n, pad));
    await settled();
    expect(socket.messages).toEqual([2, 2]);
    expect(numbers(socket)).toEqual([1, 2, 3, 4]);
  });

  it('sends the frames it holds before closing', async () => {
    const { socket, connection } = connect({ batching: true });
    let sentBeforeClose = -1;
    const close = socket.close.bind(socket);
    socket.close = (code: number) => {
      sentBeforeClose = socket.frames.length;
      close(code);
    };
    connection.send(frame(1));
    connection.send(frame(2));
    connection.close(WS_CLOSE.goingAway, 'bye');
    expect(sentBeforeClose).toBe(2);
    await settled();
    expect(socket.messages).toEqual([2]);
  });

  it("hands the frames it holds to a reading client's socket when they fill the send queue, instead of closing it", () => {
    const limits = { ...LIMITS, maxSendQueueBytes: 10_000 };
    const { socket, connection } = connect({ batching: true, limits });
    const accepted = Array.from({ length: 6 }, (_, n) => connection.send(frame(n, 4_000)));
    expect(accepted).toEqual([true, true, true, true, true, true]);
    expect(socket.closedWith).toBeNull();
    expect(numbers(socket)).toEqual([0, 1, 2]);
  });

  it('closes a client that does not read as a slow consumer once what it holds and what it has not read pass the send queue', async () => {
    const limits = { ...LIMITS, maxSendQueueBytes: 10_000 };
    const { socket, connection } = connect({ batching: true, limits });
    socket.stalled = true;
    const accepted = Array.from({ length: 4 }, (_, n) => connection.send(frame(n, 4_000)));
    expect(accepted).toEqual([true, true, true, false]);
    expect(socket.closedWith).toBe(WS_CLOSE.slowConsumer);
    // What was accepted before still reached the socket, ahead of the close.
    expect(numbers(socket)).toEqual([0, 1, 2]);
  });

  it('counts the frames it holds when telling a replay to wait for the socket', () => {
    const limits = { ...LIMITS, maxSendQueueBytes: 10_000 };
    const { connection } = connect({ batching: true, limits });
    connection.send(frame(1, 4_000));
    expect(connection.congested()).toBe(false);
    connection.send(frame(2, 2_000));
    expect(connection.congested()).toBe(true);
  });

  it('sends a frame awaited until written together with the frames held before it, and resolves once written', async () => {
    const { socket, connection } = connect({ batching: true });
    connection.send(frame(1));
    const written = connection.sendWhenWritten(frame(2), 1_000);
    expect(socket.messages).toEqual([2]);
    await expect(written).resolves.toBe(true);
    await settled();
    expect(socket.messages).toEqual([2]);
    expect(numbers(socket)).toEqual([1, 2]);
  });
});
