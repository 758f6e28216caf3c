import { type ControlFrame, WS_BATCH, WS_CLOSE } from '@inv/contracts';
import type { ConnectionLimits } from '../config.js';
import type { Endpoint, WarehouseScope } from '../domain/access.js';
import type { ParsedClientMessage, ProtocolError } from '../domain/client-message.js';
import { controlFrame, errorFrame, type Frame, frameBytes, joinFrames } from '../domain/frames.js';
import { FloodMeter, TokenBucket } from '../domain/token-bucket.js';
import type { ClientChannel } from './client-channel.js';
import type { GatewayMetrics, GatewaySocket } from './ports.js';
import { Semaphore } from './semaphore.js';
import { EACH_BURST, type HeldWrites, type WriteFlusher } from './write-flusher.js';

/** A client flooding at ten times its allowed rate for about a second is disconnected. */
const FLOOD_FACTOR = 10;
const TEXT = { binary: false };

export interface BoundSession {
  id: string;
  /** Key prefix in the sessions bucket (user and session). */
  prefix: string;
  /** When its bind began (ms): of two connections of one session, the one whose bind began later holds it. */
  since: number;
}

/**
 * One WebSocket client: what it may see, its channels, its limits and its heartbeat state. Kept small (no
 * timers, no per-connection buffers until needed): a process holds tens of thousands.
 */
export class Connection implements HeldWrites {
  readonly subs = new Map<string, ClientChannel>();
  session: BoundSession | null = null;
  /** Once the client acknowledges, its session stores acknowledged positions instead of sent ones. */
  usesAcks = false;
  /** Valid messages handled so far (`session` must be the first). */
  handled = 0;
  /** Messages held while a durable session is being restored, so they apply after it. */
  held: ParsedClientMessage[] | null = null;
  /** Heard from since the last heartbeat sweep. */
  active = true;
  pingPending = false;
  closing = false;
  closingSince = 0;
  /** When the token expires (epoch ms; null: never): the connection is closed with 4401 then, unless refreshed. */
  expiresAt: number | null = null;
  /** The client's address (per-address connection limit). */
  ip = '';
  /** The client takes several frames per message (`?batch=1`): a burst's frames leave as one message. */
  batching = false;
  /** Replays of this connection at once (`maxReplays`); taken before a slot of the process's replays. */
  readonly replaySlots: Semaphore;
  private corked = false;
  /** Frames of the current burst not yet handed to the socket (batching clients only). */
  private batch: Frame[] = [];
  private batchBytes = 0;
  private readonly bucket: TokenBucket;
  private readonly flood: FloodMeter;

  constructor(
    readonly id: string,
    readonly socket: GatewaySocket,
    readonly endpoint: Endpoint,
    /** Replaced by a `refresh`; every live and replayed event is checked against the current one. */
    public scope: WarehouseScope,
    /** The token's subject: durable sessions belong to it. */
    readonly user: string,
    readonly limits: ConnectionLimits,
    private readonly metrics: GatewayMetrics,
    /** When held frames go to the socket: the process's pacing of writes (see WriteFlusher). */
    private readonly writes: WriteFlusher = EACH_BURST,
  ) {
    this.replaySlots = new Semaphore(limits.maxReplays);
    this.bucket = new TokenBucket(limits.maxMessagesPerSecond);
    this.flood = new FloodMeter(limits.maxMessagesPerSecond, limits.maxMessagesPerSecond * FLOOD_FACTOR);
  }

  /** Heard from the client (a message or a pong). */
  touch(): void {
    this.active = true;
    this.pingPending = false;
  }

  /** Rate limit for client messages: 'limited' gets an error frame, 'flooding' ends the connection. */
  admit(now: number = Date.now()): 'ok' | 'limited' | 'flooding' {
    if (this.bucket.take(now)) return 'ok';
    return this.flood.refused(now) ? 'flooding' : 'limited';
  }

  /**
   * Queues a frame. A client whose queue (the socket's buffered bytes) is already over the limit is closed as a
   * slow consumer instead: it resumes with its cursors, and the process never holds more than the limit for it.
   */
  send(frame: Frame): boolean {
    if (this.closing) return false;
    // What the flusher holds goes to the socket first: only what the client has not read counts against it.
    if (this.queuedBytes > this.limits.maxSendQueueBytes) this.flushWrites();
    if (this.queuedBytes > this.limits.maxSendQueueBytes) {
      this.closeSlow('slow consumer: send queue overflowed; resume with your cursors');
      return false;
    }
    this.batchWrites();
    if (this.batching) this.hold(frame);
    else this.socket.send(frame, TEXT);
    return true;
  }

  sendControl(frame: ControlFrame): void {
    if (this.send(controlFrame(frame))) this.metrics.framesOut.inc();
  }

  sendError(error: ProtocolError): void {
    this.metrics.errorFrames.inc({ code: error.code });
    if (this.send(errorFrame(error))) this.metrics.framesOut.inc();
  }

  /**
   * Holds the socket's writes until the process's next flush (the end of the current burst of synchronous work,
   * paced by the WriteFlusher): frames sent in one go (a replay batch, several live events parsed from one read of
   * the NATS socket, a busy channel's events of one interval) leave in one system call instead of one each, and
   * the system calls are most of what a fan-out costs. A batching client's frames leave as one message too.
   */
  private batchWrites(): void {
    if (this.corked) return;
    this.corked = true;
    this.socket.cork();
    this.writes.hold(this);
  }

  /** The flusher's turn, or sooner when much is held: the held frames go to the socket, which writes what it holds. */
  flushWrites(): void {
    if (!this.corked) return;
    this.corked = false;
    this.flushBatch();
    this.socket.uncork();
  }

  /** Keeps a batching client's frame for the burst's message, sending what is held first if it would be too big. */
  private hold(frame: Frame): void {
    const bytes = frameBytes(frame);
    if (this.batch.length > 0 && this.batchBytes + bytes > WS_BATCH.maxMessageBytes) this.flushBatch();
    this.batch.push(frame);
    this.batchBytes += bytes + 1;
  }

  /** Sends the held frames as one message (`callback` once it is written). */
  private flushBatch(callback?: (error?: Error) => void): void {
    if (this.batch.length === 0) {
      callback?.();
      return;
    }
    const frames = this.batch;
    this.batch = [];
    this.batchBytes = 0;
    this.socket.send(frames.length === 1 ? frames[0]! : joinFrames(frames), TEXT, callback);
  }

  /** What the client has yet to read: the socket's buffered bytes and the frames held for the burst's message. */
  private get queuedBytes(): number {
    return this.socket.bufferedAmount + this.batchBytes;
  }

  /** More than half the send queue is in use: a replay should wait for the socket to drain. */
  congested(): boolean {
    return this.queuedBytes > this.limits.maxSendQueueBytes / 2;
  }

  /**
   * Sends a frame and waits until the socket has written it, for replays that would otherwise outrun the client.
   * A client that reads nothing for `stallMs` is closed as a slow consumer.
   */
  sendWhenWritten(frame: Frame, stallMs: number): Promise<boolean> {
    if (this.closing) return Promise.resolve(false);
    if (this.queuedBytes > this.limits.maxSendQueueBytes) return Promise.resolve(this.send(frame));
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.closeSlow('slow consumer: stopped reading during replay; resume with your cursors');
        resolve(false);
      }, stallMs);
      const written = (error?: Error) => {
        clearTimeout(timer);
        resolve(!error && !this.closing);
      };
      if (!this.batching) this.socket.send(frame, TEXT, written);
      else {
        // The frames held for this burst go first, with this one in the same message.
        this.hold(frame);
        this.flushBatch(written);
      }
      // Written now, not at the flusher's next turn: the replay waits for it.
      this.flushWrites();
    });
  }

  private closeSlow(reason: string): void {
    if (this.closing) return;
    this.metrics.slowConsumerCloses.inc();
    this.close(WS_CLOSE.slowConsumer, reason);
  }

  close(code: number, reason: string): void {
    if (this.closing) return;
    // Frames accepted before the close still leave before it, as they would unbatched.
    this.flushBatch();
    this.closing = true;
    this.closingSince = Date.now();
    this.socket.close(code, reason);
  }
}
