import { randomUUID } from 'node:crypto';
import websocket from '@fastify/websocket';
import { WS_BATCH, WS_CLOSE, WS_LIMITS, WS_PATHS } from '@inv/contracts';
import { bearerToken } from '@inv/platform';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import { Connection } from '../../app/connection.js';
import type { Authenticate, Authentication, GatewayMetrics } from '../../app/ports.js';
import type { Protocol } from '../../app/protocol.js';
import type { WriteFlusher } from '../../app/write-flusher.js';
import type { ConnectionLimits } from '../../config.js';
import { type Endpoint, scopeOf } from '../../domain/access.js';
import { controlFrame } from '../../domain/frames.js';
import { gatewaySocket } from './gateway-socket.js';

export interface WsRoutesOptions {
  protocol: Protocol;
  authenticate: Authenticate;
  limits: ConnectionLimits;
  metrics: GatewayMetrics;
  /** When every connection's held frames go to its socket (WS_WRITE_DELAY_MS while busy). */
  writes: WriteFlusher;
  /** True once the gateway is shutting down: new connections are told to go elsewhere. */
  stopping: () => boolean;
}

const ENDPOINTS: Array<[Endpoint, string]> = [
  ['inventory', WS_PATHS.inventory],
  ['warehouses', WS_PATHS.warehouses],
];

const isYes = (value: string | null) => value === '1' || value === 'true';

/** A close reason must fit in a control frame (123 bytes). */
function closeReason(text: string): string {
  return Buffer.byteLength(text) <= 120 ? text : `${text.slice(0, 100)}…`;
}

/**
 * `GET /ws` and `GET /ws/warehouses`. The routes are public for the HTTP layer: the token (`?access_token=` or
 * `Authorization: Bearer`) is checked before the upgrade, and a connection without a valid one is accepted and
 * closed with 4401, which a browser can see (it cannot see an HTTP status on a failed upgrade).
 */
export async function wsRoutes(app: FastifyInstance, options: WsRoutesOptions): Promise<void> {
  const { protocol, authenticate, limits, metrics, writes } = options;
  const authentications = new WeakMap<object, Authentication>();

  await app.register(websocket, {
    options: {
      maxPayload: WS_LIMITS.hardMaxFrameBytes,
      clientTracking: false,
      perMessageDeflate: false,
      // Invalid UTF-8 gets an error frame from the protocol instead of a 1007 close.
      skipUTF8Validation: true,
    },
    // Socket errors (a frame over the hard limit, a broken peer) are followed by the socket's own close.
    errorHandler: (error, _socket, request) => request.log.debug({ err: error }, 'websocket error'),
  });

  const authenticateRequest = async (request: FastifyRequest): Promise<void> => {
    const query = new URL(request.url, 'http://gateway').searchParams;
    const token = query.get('access_token') ?? bearerToken(request.headers.authorization);
    authentications.set(request.raw, await authenticate(token));
  };

  for (const [endpoint, path] of ENDPOINTS) {
    app.get(
      path,
      { websocket: true, config: { public: true }, preValidation: authenticateRequest },
      (socket: WebSocket, request: FastifyRequest) => {
        const auth = authentications.get(request.raw);
        if (!auth?.ok) {
          metrics.authFailures.inc({ reason: auth?.label ?? 'missing' });
          socket.close(auth?.code ?? WS_CLOSE.unauthorized, closeReason(auth?.reason ?? 'unauthorized'));
          return;
        }
        if (options.stopping()) {
          socket.send(controlFrame({ type: 'reconnect', reason: 'shutdown' }));
          socket.close(WS_CLOSE.goingAway, 'server shutting down; reconnect elsewhere');
          return;
        }
        const refusal = protocol.refuseConnection(auth.claims.sub, request.ip);
        if (refusal) {
          metrics.connectionLimitCloses.inc();
          socket.close(WS_CLOSE.tooManyConnections, closeReason(refusal));
          return;
        }
        const connection = new Connection(
          randomUUID(),
          gatewaySocket(socket, request.raw.socket),
          endpoint,
          scopeOf(auth.claims),
          auth.claims.sub,
          limits,
          metrics,
          writes,
        );
        connection.expiresAt = auth.expiresAt;
        connection.ip = request.ip;
        // A bug must cost one connection, never the process or a silent client.
        const guarded = (work: () => void) => {
          try {
            work();
          } catch (error) {
            request.log.error({ err: error }, 'websocket handler failed');
            connection.close(WS_CLOSE.internalError, 'internal error; reconnect and resume');
          }
        };
        socket.on('message', (data, isBinary) =>
          guarded(() => protocol.frame(connection, data as Buffer, isBinary)),
        );
        socket.on('pong', () => connection.touch());
        socket.once('close', () => void protocol.close(connection));
        const query = new URL(request.url, 'http://gateway').searchParams;
        // A client that will acknowledge says so up front: until its first ack arrives, events sent but not yet
        // processed must not count as reached, or a reload in that window would skip them.
        connection.usesAcks = isYes(query.get('acks'));
        connection.batching = isYes(query.get(WS_BATCH.query));
        const session = query.get('session');
        guarded(() => protocol.open(connection, session ?? undefined));
      },
    );
  }
}
