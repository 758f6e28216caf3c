import type { HistogramData, Summary } from '../stats.js';

/** Which server the clients talk to: our gateway, NATS's own WebSocket listener, or a Socket.IO relay. */
export type Target = 'gateway' | 'nats' | 'socketio';

export interface ClientsConfig {
  target: Target;
  /** ws:// URL of the gateway endpoint (token included), of the NATS WebSocket listener, or http:// of Socket.IO. */
  url: string;
  count: number;
  /** Gateway channel, NATS subject or Socket.IO room; none keeps the connections idle. */
  topic?: string;
  /** Connections opened at the same time. */
  concurrency?: number;
}

export interface ClientsResult {
  latency: Summary;
  /** The latencies themselves, to merge rounds. */
  histogram: HistogramData;
  /** Event frames received by all clients, timed or not. */
  frames: number;
  /** From the first timed frame received to the last one. */
  windowMs: number;
  closedEarly: number;
}

export type ChildMessage =
  | { type: 'ready'; connectMs: number }
  | { type: 'result'; result: ClientsResult }
  | { type: 'error'; message: string };

/** Stop once `expected` timed frames have arrived (or none for two seconds), then report. */
export type ParentMessage = { type: 'stop'; expected?: number };
