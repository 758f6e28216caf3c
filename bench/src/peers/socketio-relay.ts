/**
 * The peer a Node team would pick: a Socket.IO 4 server relaying a NATS subject (core subscription, the same
 * republished `live.` messages the gateway reads) to a room. Clients `join` a room and get every message as
 * an `event`. It answers `GET /readyz` so testkit's ServiceProcess can start it like a service, and
 * `GET /stats` with how many messages it has relayed and how many clients are connected.
 *
 * With RELAY_RECOVERY_MS set, Socket.IO's connection-state recovery is on (the storm benchmark's peer): a client
 * whose transport dropped and that comes back within that time gets its rooms and the packets it missed back,
 * from this process's memory.
 *
 * Environment: NATS_URL, PORT, HOST, RELAY_SUBJECT, RELAY_ROOM, RELAY_RECOVERY_MS.
 */
import { createServer } from 'node:http';
import { connect } from '@nats-io/transport-node';
import { Server } from 'socket.io';

const subject = process.env.RELAY_SUBJECT ?? '>';
const room = process.env.RELAY_ROOM ?? 'bench';
const recoveryMs = Number(process.env.RELAY_RECOVERY_MS ?? 0);
const nc = await connect({ servers: process.env.NATS_URL ?? 'nats://127.0.0.1:4222' });
let relayed = 0;

const http = createServer((request, response) => {
  if (request.url === '/stats') {
    response
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ relayed, clients: io.engine.clientsCount }));
    return;
  }
  response.writeHead(request.url === '/readyz' ? 200 : 404).end();
});
const io = new Server(http, {
  transports: ['websocket'],
  serveClient: false,
  perMessageDeflate: false,
  ...(recoveryMs > 0
    ? { connectionStateRecovery: { maxDisconnectionDuration: recoveryMs, skipMiddlewares: true } }
    : {}),
});
io.on('connection', (socket) => {
  socket.on('join', (name: unknown, ack: unknown) => {
    if (typeof name === 'string') void socket.join(name);
    if (typeof ack === 'function') ack();
  });
});

nc.subscribe(subject, {
  callback: (_error, message) => {
    io.to(room).emit('event', message.string());
    relayed++;
  },
});
await nc.flush();
http.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1');

process.once('SIGTERM', () => {
  void io.close();
  void nc.close().finally(() => process.exit(0));
});
