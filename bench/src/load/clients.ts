/**
 * The load generator's clients, a process of their own: opens `count` connections to one target, subscribes
 * each to the topic, and times every event frame from its send time (see events.ts) to its receipt. It tells its
 * parent over IPC when every client is subscribed, and answers `stop` with a summary: the latencies stay here,
 * a run records too many to ship.
 */

import { framesOfMessage } from '@inv/contracts';
import { wsconnect } from '@nats-io/nats-core';
import { io, type Socket } from 'socket.io-client';
import WebSocket from 'ws';
import { sentAtOf, TIMED_PREFIX } from '../events.js';
import { LatencyHistogram, now } from '../stats.js';
import { gatewayUrl } from './gateway-url.js';
import type { ChildMessage, ClientsConfig, ParentMessage } from './protocol.js';

// nats-core's wsconnect expects a global WebSocket, which Node 20 only has behind a flag.
(globalThis as { WebSocket?: unknown }).WebSocket ??= WebSocket;

const REASON_KEY = `"reason":"${TIMED_PREFIX}`;
const config = JSON.parse(process.argv[2] ?? '{}') as ClientsConfig;
const latencies = new LatencyHistogram();
let frames = 0;
let firstAt = 0;
let lastAt = 0;
let closedEarly = 0;
let stopping = false;
const closers: Array<() => void> = [];

function send(message: ChildMessage): Promise<void> {
  return new Promise((resolve) => process.send!(message, () => resolve()));
}

/**
 * One received event: its `data.reason` says when it was sent. Found by a string search rather than by parsing
 * the frame: a thousand clients in one process parse a hundred thousand frames a second, and the load generator
 * must not be what is measured.
 */
function received(text: string): void {
  const at = now();
  frames++;
  const start = text.indexOf(REASON_KEY);
  if (start < 0) return;
  const sentAt = sentAtOf(
    text.slice(start + REASON_KEY.length - TIMED_PREFIX.length, text.indexOf('"', start + REASON_KEY.length)),
  );
  if (sentAt === null) return;
  latencies.record(at - sentAt);
  if (firstAt === 0) firstAt = at;
  lastAt = at;
}

function onEarlyClose(): void {
  if (!stopping) closedEarly++;
}

function openGateway(): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = new WebSocket(gatewayUrl(config.url), { perMessageDeflate: false });
    closers.push(() => socket.terminate());
    let ready = false;
    socket.on('message', (data, isBinary) => {
      for (const text of framesOfMessage(isBinary ? '' : data.toString())) onFrame(text);
    });
    const onFrame = (text: string) => {
      if (ready) {
        if (!text.startsWith('{"type":"subscribed"') && !text.startsWith('{"type":"unsubscribed"'))
          received(text);
        return;
      }
      const frame = JSON.parse(text) as { type: string; channel?: string };
      if (!config.topic && frame.type === 'welcome') {
        ready = true;
        resolve();
      } else if (frame.type === 'subscribed' && frame.channel === config.topic) {
        ready = true;
        resolve();
      } else if (frame.type === 'error') reject(new Error(`gateway refused: ${text}`));
    };
    socket.once('open', () => {
      if (config.topic) socket.send(JSON.stringify({ type: 'subscribe', channel: config.topic }));
    });
    socket.once('error', reject);
    socket.once('close', (code, reason) => {
      if (!ready) reject(new Error(`gateway closed ${code} ${reason.toString()}`));
      else onEarlyClose();
    });
  });
}

async function openNats(): Promise<void> {
  const nc = await wsconnect({ servers: config.url, reconnect: false, ignoreClusterUpdates: true });
  closers.push(() => void nc.close());
  void nc.closed().then(onEarlyClose);
  if (config.topic) nc.subscribe(config.topic, { callback: (_error, message) => received(message.string()) });
  await nc.flush();
}

function openSocketIo(): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket: Socket = io(config.url, { transports: ['websocket'], forceNew: true, reconnection: false });
    closers.push(() => socket.disconnect());
    socket.on('event', (text: string) => received(text));
    socket.once('connect', () => {
      if (!config.topic) return resolve();
      socket.emit('join', config.topic, () => resolve());
    });
    socket.once('connect_error', reject);
    socket.once('disconnect', onEarlyClose);
  });
}

const OPENERS = { gateway: openGateway, nats: openNats, socketio: openSocketIo } as const;

async function connectAll(): Promise<void> {
  const open = OPENERS[config.target];
  const concurrency = config.concurrency ?? 100;
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(concurrency, config.count) }, async () => {
      while (next < config.count) {
        next++;
        await open();
      }
    }),
  );
}

/** Waits until `expected` timed frames arrived, or until none arrived for a while: backlogs are part of the run. */
async function drained(expected: number, quietMs: number, maxMs: number): Promise<void> {
  const started = now();
  let seen = latencies.count;
  let lastChange = now();
  while (latencies.count < expected && now() - lastChange < quietMs && now() - started < maxMs) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    if (latencies.count !== seen) {
      seen = latencies.count;
      lastChange = now();
    }
  }
}

process.on('message', async (message: ParentMessage) => {
  if (message.type !== 'stop') return;
  await drained(message.expected ?? 0, 2_000, 30_000);
  stopping = true;
  const result = {
    latency: latencies.summary(),
    histogram: latencies.data(),
    frames,
    windowMs: lastAt - firstAt,
    closedEarly,
  };
  for (const close of closers) close();
  void send({ type: 'result', result }).then(() => process.exit(0));
});

const started = now();
connectAll().then(
  () => send({ type: 'ready', connectMs: now() - started }),
  (error: unknown) => send({ type: 'error', message: String(error) }).then(() => process.exit(1)),
);
