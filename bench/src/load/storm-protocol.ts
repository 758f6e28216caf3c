/** Which server the storm's clients resume on: the gateway (cursor) or Socket.IO 4 (connection-state recovery). */
export type StormTarget = 'gateway' | 'socketio';

export interface StormConfig {
  target: StormTarget;
  /** ws:// URL of the gateway endpoint (token included), or http:// of the Socket.IO relay. */
  url: string;
  count: number;
  /** Gateway channel or Socket.IO room. */
  topic: string;
  /** Connection handshakes in flight at once, when connecting and when the storm reconnects everyone. */
  concurrency: number;
}

/** What one storm measured: every client back with exactly the events it missed, or not. */
export interface StormResult {
  /** From the reconnect order to the last client live with all its missed events. */
  allMs: number;
  /** Per client, from the reconnect order to live with all its missed events. */
  p50Ms: number;
  p99Ms: number;
  /** Clients that got exactly their missed events, in order, and are live. */
  complete: number;
  /** Clients that were not complete when the storm's time ran out. */
  incomplete: number;
  /** Events that skipped versions (a gap) or repeated one (a duplicate), over every client since the start. */
  gaps: number;
  duplicates: number;
  /** Socket.IO only: clients whose session was not recovered (they get nothing they missed). */
  notRecovered: number;
}

export type StormParentMessage =
  /** Resolve once every client has seen the event of this version (the one all their cursors point at). */
  | { type: 'await'; version: number; timeoutMs: number }
  /** Cut every connection as a crash or a network blip would (no close handshake, no unsubscribe). */
  | { type: 'drop' }
  /** Every client reconnects now and resumes; each must get exactly `missed` events. */
  | { type: 'reconnect'; missed: number; timeoutMs: number }
  | { type: 'stop' };

export type StormChildMessage =
  | { type: 'ready'; connectMs: number }
  | { type: 'done' }
  | { type: 'storm'; result: StormResult }
  | { type: 'error'; message: string };
