/**
 * The peer a Node team would pick: a Socket.IO 4 server relaying a NATS subject (core subscription, the same
 * republished `live.` messages the gateway reads) to a room. Clients `join` a room and get every message as
 * an `event`. It answers `GET /readyz` so testkit's ServiceProcess can start it like a service.
 *
 * Environment: NATS_URL, PORT, HOST, RELAY_SUBJECT, RELAY_ROOM.
 */
import { createServer } from 'node:http';
import { connect } from '@nats-io/transport-node';
import { Server } from 'socket.io';

const subject = process.env.RELAY_SUBJECT ?? '>';
const room = process.env.RELAY_ROOM ?? 'bench';
const nc = await connect({ servers: process.env.NATS_URL ?? 'nats://127.0.0.1:4222' });

const http = createServer((request, response) => {
  response.writeHead(request.url === '/readyz' ? 200 : 404).end();
});
const io = new Server(http, { transports: ['websocket'], serveClient: false, perMessageDeflate: false });
io.on('connection', (socket) => {
  socket.on('join', (name: unknown, ack: unknown) => {
    if (typeof name === 'string') void socket.join(name);
    if (typeof ack === 'function') ack();
  });
});

nc.subscribe(subject, {
  callback: (_error, message) => {
    io.to(room).emit('event', message.string());
  },
});
await nc.flush();
http.listen(Number(process.env.PORT ?? 0), process.env.HOST ?? '127.0.0.1');

process.once('SIGTERM', () => {
  void io.close();
  void nc.close().finally(() => process.exit(0));
});
