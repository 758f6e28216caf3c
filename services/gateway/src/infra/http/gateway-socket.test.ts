import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket, WebSocketServer } from 'ws';
import { gatewaySocket } from './gateway-socket.js';

describe('gatewaySocket', () => {
  let server: WebSocketServer;
  beforeAll(async () => {
    server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await once(server, 'listening');
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  it('corks the TCP socket the frames are written to, and they all arrive once it is uncorked', async () => {
    const accepted = once(server, 'connection') as Promise<[WebSocket, IncomingMessage]>;
    const client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`);
    const [socket, request] = await accepted;
    const received: string[] = [];
    const both = new Promise<void>((resolve) =>
      client.on('message', (data) => {
        received.push(String(data));
        if (received.length === 2) resolve();
      }),
    );

    const port = gatewaySocket(socket, request.socket);
    port.cork();
    port.send('one', { binary: false });
    port.send('two', { binary: false });
    expect(request.socket.writableCorked).toBe(1);
    port.uncork();
    expect(request.socket.writableCorked).toBe(0);
    await both;
    expect(received).toEqual(['one', 'two']);
    client.close();
  });
});
