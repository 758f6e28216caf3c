import type { Duplex } from 'node:stream';
import type { WebSocket } from 'ws';
import type { GatewaySocket } from '../../app/ports.js';

/**
 * A `ws` server socket as the gateway's port. `ws` has no public cork, so corking goes to the stream under it:
 * the upgraded request's socket, which `ws` took over and writes its frames to.
 */
export function gatewaySocket(socket: WebSocket, stream: Duplex): GatewaySocket {
  return {
    get bufferedAmount() {
      return socket.bufferedAmount;
    },
    send: (data, options, callback) => socket.send(data, options, callback),
    close: (code, reason) => socket.close(code, reason),
    terminate: () => socket.terminate(),
    ping: () => socket.ping(),
    cork: () => stream.cork(),
    uncork: () => stream.uncork(),
  };
}
