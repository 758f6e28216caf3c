import type { AccessClaims, ChannelKind } from '@inv/contracts';
import type { StreamState } from '../domain/cursor-check.js';
import type { LiveRejection } from '../domain/live-sequence.js';

/** A message of the EVENTS stream as the gateway handles it: its sequence, subject and raw body. */
export interface RawMessage {
  seq: number;
  subject: string;
  data: Uint8Array;
}

/** A republished message whose RePublish headers are complete and consistent (not yet checked against the stream). */
export interface LiveMessage extends RawMessage {
  /** `Nats-Last-Sequence`: the previous stream sequence on the same subject. */
  lastSeq: number;
}

/** The live feed: core subscriptions on the republished `live.<filter>` subjects. */
export interface LiveFeed {
  /**
   * `onRejected` gets the messages on the subject that do not carry the stream's RePublish headers (forged, or
   * not from the stream): never delivered, they make the hub check itself against the stream.
   */
  subscribe(
    filter: string,
    onMessage: (message: LiveMessage) => void,
    onRejected: (reason: LiveRejection) => void,
  ): () => void;
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

/** Single messages of the stream, for checking the live feed against it. */
export interface StreamLookup {
  /** The stored message at a sequence, or null when the stream has none there. */
  messageAt(seq: number): Promise<RawMessage | null>;
}

export interface StreamStateSource {
  /** The stream's epoch as of the last look (cursors carry it). */
  readonly epoch: number;
  /** A fresh look at the stream: the request is sent after this call, never an older answer. */
  current(): Promise<StreamState>;
}

/** Who holds a durable session, and when their bind began (ms): a later bind wins. */
export interface SessionClaim {
  owner: string;
  since: number;
}

export interface SessionBucketListener {
  /** A claim landed, by any instance: a holder learns at once that a newer connection took its session. */
  claimed(prefix: string, claim: SessionClaim): void;
  /** The bucket was lost and made anew (by any instance): every position and claim it held is gone. */
  recreated(): void;
}

/** Durable sessions' positions: channel name → cursor, per session. */
export interface SessionRepository {
  load(prefix: string): Promise<Map<string, string>>;
  save(prefix: string, channel: string, cursor: string): Promise<void>;
  remove(prefix: string, channel: string): Promise<void>;
  /**
   * Names the connection that holds the session from now on, unless a connection whose bind began later (`since`,
   * ms) holds it already: claims can land out of order across instances, and the newest connection must win.
   * False when it did not take the session.
   */
  claim(prefix: string, owner: string, since: number): Promise<boolean>;
  /** The connection that holds the session, or null when none claimed it. */
  owner(prefix: string): Promise<string | null>;
  /** Tells `listener` what other instances do to the bucket; resolves once watching, with a function that stops it. */
  watch(listener: SessionBucketListener): Promise<() => void>;
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
  /** Holds the writes that follow in the underlying stream until `uncork()`, so that they leave together. */
  cork(): void;
  uncork(): void;
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

/** A count that only goes up (prom-client's `Counter` fits). */
export interface Count {
  inc(value?: number): void;
}

/** A count split by one label (prom-client's `Counter` with that label fits). */
export interface LabelledCount<Label extends string> {
  inc(labels: Record<Label, string | number>, value?: number): void;
}

/** Observed values, such as durations in seconds (prom-client's `Histogram` fits). */
export interface Observations {
  observe(value: number): void;
}

/**
 * What the gateway's use cases count. `live` holds the figures read at scrape time, kept up to date by the use
 * cases; `infra/metrics.ts` registers all of it with Prometheus.
 */
export interface GatewayMetrics {
  readonly live: {
    connections: { inventory: number; warehouses: number };
    hubs: number;
    replays: number;
  };
  subscribed(kind: ChannelKind, delta: 1 | -1): void;
  framesOut: Count;
  replayedEvents: Count;
  /** Stream reads for client resumes: one shared read serves every client resuming a channel with it. */
  replayReads: Count;
  windowReplays: Count;
  windowReplayedEvents: Count;
  slowConsumerCloses: Count;
  heartbeatCloses: Count;
  deliveryLag: Observations;
  authFailures: LabelledCount<'reason'>;
  connectionLimitCloses: Count;
  tokenExpiryCloses: Count;
  refreshes: LabelledCount<'outcome'>;
  resets: LabelledCount<'reason'>;
  errorFrames: LabelledCount<'code'>;
  backfills: Count;
  liveRejected: LabelledCount<'reason'>;
  liveGaps: LabelledCount<'found_by'>;
  undecodable: Count;
  sessionTakeovers: Count;
  sessionWriteFailures: Count;
}
