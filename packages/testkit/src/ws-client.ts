import { CONTROL_FRAME_TYPES, framesOfMessage } from '@inv/contracts';
import WebSocket from 'ws';

/** A frame from the gateway, parsed: a control frame (`subscribed`, `error`, …) or an event frame. */
export interface WsFrame {
  type: string;
  channel?: string;
  id?: string;
  cursor?: string;
  code?: string;
  data?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface TestWsClientOptions {
  /** Sent as `?access_token=`; use `headers` for `Authorization: Bearer`. */
  token?: string | null;
  /** Extra query parameters, e.g. `{ session: 's-1' }`. */
  query?: Record<string, string>;
  headers?: Record<string, string>;
  /** Answer the server's WebSocket pings (default true); false plays a client that stopped responding. */
  autoPong?: boolean;
}

export interface WaitOptions {
  timeoutMs?: number;
  /** What is awaited, for the timeout message. */
  description?: string;
}

export interface CloseEvent {
  code: number;
  reason: string;
}

const DEFAULT_TIMEOUT_MS = 10_000;

function isEventFrame(frame: WsFrame): boolean {
  return !(CONTROL_FRAME_TYPES as readonly string[]).includes(frame.type);
}

/**
 * A real WebSocket client (the `ws` package) for tests of the gateway: connects, sends, keeps every frame it
 * receives, waits for frames in order, and reports how the connection closed. It can also stop reading its TCP
 * socket, to play a client that cannot keep up.
 */
export class TestWsClient {
  /** Every JSON frame received, in order. */
  readonly frames: WsFrame[] = [];
  /** Text frames that were not JSON (a gateway never sends them; kept so a test can say so). */
  readonly unparsed: string[] = [];
  /** How many frames each WebSocket message held: 1 each, unless the client asked for batches (`batch=1`). */
  readonly messageSizes: number[] = [];
  /** Resolves when the connection is closed, with the close code and reason the server sent. */
  readonly closed: Promise<CloseEvent>;
  private closeEvent: CloseEvent | null = null;
  private readIndex = 0;
  private readonly listeners = new Set<() => void>();

  private constructor(readonly socket: WebSocket) {
    socket.on('message', (data, isBinary) => {
      const texts = isBinary ? [null] : framesOfMessage(data.toString());
      this.messageSizes.push(texts.length);
      for (const text of texts) this.keep(text);
      this.notify();
    });
    this.closed = new Promise((resolve) => {
      socket.once('close', (code, reason) => {
        this.closeEvent = { code, reason: reason.toString() };
        resolve(this.closeEvent);
        this.notify();
      });
    });
    socket.on('error', () => undefined); // the close event follows and tells the test what happened
  }

  private keep(text: string | null): void {
    try {
      const frame = text === null ? null : (JSON.parse(text) as WsFrame);
      if (frame && typeof frame === 'object' && typeof frame.type === 'string') this.frames.push(frame);
      else this.unparsed.push(String(text));
    } catch {
      this.unparsed.push(String(text));
    }
  }

  /** Opens a connection; resolves once it is open (the server may still close it right away, e.g. 4401). */
  static connect(url: string, options: TestWsClientOptions = {}): Promise<TestWsClient> {
    const target = new URL(url);
    if (options.token) target.searchParams.set('access_token', options.token);
    for (const [key, value] of Object.entries(options.query ?? {})) target.searchParams.set(key, value);
    const socket = new WebSocket(target, { headers: options.headers, autoPong: options.autoPong ?? true });
    const client = new TestWsClient(socket);
    return new Promise((resolve, reject) => {
      socket.once('open', () => resolve(client));
      socket.once('unexpected-response', (_request, response) =>
        reject(new Error(`WebSocket upgrade refused with HTTP ${response.statusCode}`)),
      );
      socket.once('error', reject);
    });
  }

  get isClosed(): boolean {
    return this.closeEvent !== null;
  }

  /** Sends a message: objects as JSON text, strings as text frames as they are, Buffers as binary frames. */
  send(message: unknown): void {
    if (typeof message === 'string') this.socket.send(message);
    else if (Buffer.isBuffer(message)) this.socket.send(message, { binary: true });
    else this.socket.send(JSON.stringify(message));
  }

  /** Sends bytes as a text frame without checking them (e.g. invalid UTF-8). */
  sendRawText(bytes: Buffer): void {
    this.socket.send(bytes, { binary: false });
  }

  /**
   * The next frame, after the last one a `waitFor`/`nextFrame` returned, that matches; waits for it. Rejects
   * when the connection closes or the time runs out first.
   */
  waitFor(predicate: (frame: WsFrame) => boolean, options: WaitOptions = {}): Promise<WsFrame> {
    let next = this.readIndex;
    return this.until(() => {
      // Only frames not looked at yet: waiting for the 10,000th frame must not rescan the first 9,999 each time.
      for (; next < this.frames.length; next++) {
        if (predicate(this.frames[next]!)) {
          this.readIndex = next + 1;
          return this.frames[next]!;
        }
      }
      return undefined;
    }, options);
  }

  nextFrame(type: string, options: WaitOptions = {}): Promise<WsFrame> {
    return this.waitFor((frame) => frame.type === type, { description: `a ${type} frame`, ...options });
  }

  /** Waits until at least `count` frames received so far match; resolves with all of them. Does not move on. */
  waitForCount(
    predicate: (frame: WsFrame) => boolean,
    count: number,
    options: WaitOptions = {},
  ): Promise<WsFrame[]> {
    const matching: WsFrame[] = [];
    let next = 0;
    return this.until(
      () => {
        for (; next < this.frames.length; next++)
          if (predicate(this.frames[next]!)) matching.push(this.frames[next]!);
        return matching.length >= count ? matching : undefined;
      },
      { description: `${count} matching frames`, ...options },
    );
  }

  /** Event frames received (not control frames), optionally of one channel. */
  events(channel?: string): WsFrame[] {
    return this.frames.filter(
      (frame) => isEventFrame(frame) && (channel === undefined || frame.channel === channel),
    );
  }

  /** Waits for `count` event frames on a channel. */
  waitForEvents(channel: string, count: number, options: WaitOptions = {}): Promise<WsFrame[]> {
    return this.waitForCount((frame) => isEventFrame(frame) && frame.channel === channel, count, {
      description: `${count} events on ${channel}`,
      ...options,
    });
  }

  /** Stops reading from the TCP socket: the server's send queue for this client grows. */
  pause(): void {
    (this.socket as unknown as { _socket: import('node:net').Socket })._socket.pause();
  }

  resume(): void {
    (this.socket as unknown as { _socket: import('node:net').Socket })._socket.resume();
  }

  close(code = 1000, reason = 'test done'): Promise<CloseEvent> {
    if (!this.closeEvent) this.socket.close(code, reason);
    return this.closed;
  }

  terminate(): Promise<CloseEvent> {
    if (!this.closeEvent) this.socket.terminate();
    return this.closed;
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }

  private until<T>(check: () => T | undefined, options: WaitOptions): Promise<T> {
    const first = check();
    if (first !== undefined) return Promise.resolve(first);
    const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    const description = options.description ?? 'a matching frame';
    return new Promise((resolve, reject) => {
      const finish = (outcome: () => void) => {
        clearTimeout(timer);
        this.listeners.delete(listener);
        outcome();
      };
      const listener = () => {
        const value = check();
        if (value !== undefined) return finish(() => resolve(value));
        if (this.closeEvent) {
          const { code, reason } = this.closeEvent;
          finish(() =>
            reject(new Error(`connection closed (${code} ${reason}) while waiting for ${description}`)),
          );
        }
      };
      const timer = setTimeout(
        () =>
          finish(() =>
            reject(
              new Error(
                `timed out after ${timeoutMs} ms waiting for ${description}; last frames: ` +
                  JSON.stringify(this.frames.slice(-3)),
              ),
            ),
          ),
        timeoutMs,
      );
      this.listeners.add(listener);
      listener();
    });
  }
}
