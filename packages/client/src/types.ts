import type { EventData, EventType, ResetReason } from '@inv/contracts';

export type ConnectionState = 'connecting' | 'open' | 'reconnecting' | 'closed';

/** One event as delivered to a handler; `data` is typed by `type` for every known event type. */
export type ClientEvent<T extends EventType = EventType> = {
  [K in T]: { type: K; channel: string; id: string; cursor: string; occurredAt: string; data: EventData<K> };
}[T];

export interface ResetNotice {
  channel: string;
  reason: ResetReason;
}

export interface ServerError {
  code: string;
  message: string;
  channel?: string;
}

/** The part of the WebSocket API the client uses: the browser's WebSocket and the `ws` package both fit. */
export interface WebSocketLike {
  readonly readyState: number;
  onopen: ((ev: unknown) => void) | null;
  onmessage: ((ev: { data: unknown }) => void) | null;
  onclose: ((ev: { code: number; reason: string }) => void) | null;
  onerror: ((ev: unknown) => void) | null;
  send(data: string): void;
  close(code?: number, reason?: string): void;
}
export type WebSocketFactory = new (url: string) => WebSocketLike;

/** Key-value storage for the session id and cursors: `localStorage` in browsers. */
export interface KeyValueStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}
