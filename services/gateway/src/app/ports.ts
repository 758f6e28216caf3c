import type { AccessClaims } from '@inv/contracts';
import type { StreamState } from '../domain/cursor-check.js';

/** A message of the EVENTS stream as the gateway handles it: its sequence, subject and raw body. */
export interface RawMessage {
  seq: number;
  subject: string;
  data: Uint8Array;
}

/** The live feed: core subscriptions on the republished `live.<filter>` subjects. */
export interface LiveFeed {
  subscribe(filter: string, onMessage: (message: RawMessage) => void): () => void;
  /** Resolves once the server knows every subscription made so far. */
  flush(): Promise<void>;
}

export interface ReadRange {
  filters: readonly string[];
  /** First sequence to read. */
  fromSeq: number;
  /** Last sequence to read: the stream's end when the caller looked. */
  toSeq: number;
  /** Called for each message in stream order; a returned promise is awaited (back-pressure). */
  onMessage: (message: RawMessage) => void | Promise<void>;
  /** Checked before each message; true stops the read. */
  stopped: () => boolean;
}

/** Reads a range of the stream on one or more filters, merged into stream order. */
export interface StreamReader {
  read(range: ReadRange): Promise<void>;
}

export interface StreamStateSource {
  /** The stream's epoch as of the last look (cursors carry it). */
  readonly epoch: number;
  /** A fresh look at the stream: the request is sent after this call, never an older answer. */
  current(): Promise<StreamState>;
}

/** Durable sessions' positions: channel name → cursor, per session. */
export interface SessionRepository {
  load(prefix: string): Promise<Map<string, string>>;
  save(prefix: string, channel: string, cursor: string): Promise<void>;
  remove(prefix: string, channel: string): Promise<void>;
  /** The session ids with stored positions of one user (by `userKey`). */
  sessionsOf(userKey: string): Promise<Set<string>>;
}

/** The part of a WebSocket the gateway uses (the `ws` socket on the server side). */
export interface GatewaySocket {
  readonly bufferedAmount: number;
  send(data: string | Buffer, options: { binary: boolean }, callback?: (error?: Error) => void): void;
  close(code: number, reason: string): void;
  terminate(): void;
  ping(): void;
}

export type Authentication =
  | {
      ok: true;
      claims: AccessClaims;
      /** Epoch milliseconds of the token's `exp`; null for a token without one (development mode). */
      expiresAt: number | null;
    }
  | { ok: false; code: number; reason: string; label: string };

/** Verifies an access token (on connect and on `refresh`); failures are values, never exceptions. */
export type Authenticate = (token: string | undefined | null) => Promise<Authentication>;

/** The sequence of the newest stream message matching any of these filters; 0 when none does. */
export type LastMatching = (filters: readonly string[]) => Promise<number>;
