import type { Transfer } from '@inv/contracts';
import { decodeCursor } from '@inv/contracts';
import { fetchJson, type JsonReply, type SeededRandom, TestWsClient } from '@inv/testkit';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A request that may meet a dead process or a frozen database: status 0 stands for "no answer". */
export async function call<T = Record<string, unknown>>(
  url: string,
  method: string,
  token: string,
  body?: unknown,
): Promise<JsonReply<T & { code?: string }>> {
  return fetchJson<T & { code?: string }>(url, { method, token, body, timeoutMs: 10_000 }).catch(
    (error: Error) => ({ status: 0, body: { message: error.message } as never, headers: new Headers() }),
  );
}

export interface AdjustTally {
  applied: number;
  refused: number;
  /** No answer or 503: the service was down or its database frozen (the change may or may not be applied). */
  unavailable: number;
  /** 500s and answers without a code: never acceptable. */
  unclean: string[];
}

/** One writer of `in`/`out` adjusts on random stock until `until()`. */
export async function adjustWriter(options: {
  inventoryUrl: string;
  token: string;
  products: string[];
  warehouses: string[];
  random: SeededRandom;
  tally: AdjustTally;
  until: () => boolean;
}): Promise<void> {
  const { random, tally } = options;
  while (!options.until()) {
    const out = random.chance(0.3);
    const reply = await call(`${options.inventoryUrl}/api/inventory/adjust`, 'POST', options.token, {
      productId: random.pick(options.products),
      warehouseId: random.pick(options.warehouses),
      quantity: out ? random.int(1, 2) : random.int(1, 3),
      movementType: out ? 'out' : 'in',
    });
    if (reply.status === 200) tally.applied++;
    else if (reply.status === 0 || reply.status === 503) tally.unavailable++;
    else if (reply.status < 500 && reply.body?.code) tally.refused++;
    else tally.unclean.push(`${reply.status} ${JSON.stringify(reply.body).slice(0, 200)}`);
    // Without an answer the service is down: do not spin on a refused connection.
    if (reply.status === 0 || reply.status === 503) await pause(200);
  }
}

export type CancelPoint = 'approved' | 'picking_started' | 'packed' | null;

export interface TransferTally {
  created: string[];
  unclean: string[];
}

/**
 * Walks one transfer through its life by reading its state and taking the next step of a random plan: a
 * cancel at some point, or ship and receive (sometimes short). Every step is retried while a service is down;
 * a step answered 409 (already taken, or the reservation still pending) is re-read, so a step whose answer was
 * lost is never taken twice.
 */
export async function driveTransfer(options: {
  transferUrl: string;
  requester: string;
  approver: string;
  products: string[];
  warehouses: string[];
  random: SeededRandom;
  tally: TransferTally;
  until: () => boolean;
}): Promise<void> {
  const { random, tally } = options;
  const [source, destination] = [...options.warehouses].sort(() => random.next() - 0.5);
  const products = [...options.products].sort(() => random.next() - 0.5).slice(0, random.int(1, 2));
  const cancelAt = random.pick<CancelPoint>(['approved', 'picking_started', 'packed', null, null, null]);
  const shortReceipt = random.chance(0.4);
  const base = `${options.transferUrl}/api/transfers`;
  let id: string | null = null;
  while (!id && !options.until()) {
    const created = await call<Transfer>(base, 'POST', options.requester, {
      sourceWarehouseId: source,
      destinationWarehouseId: destination,
      lines: products.map((productId) => ({ productId, quantity: random.int(1, 6) })),
    });
    if (created.status === 201) id = created.body.transferId;
    else if (created.status !== 0 && created.status !== 503) {
      tally.unclean.push(`create ${created.status} ${JSON.stringify(created.body).slice(0, 200)}`);
      return;
    } else await pause(200);
  }
  if (!id) return;
  tally.created.push(id);
  while (!options.until()) {
    const read = await call<Transfer>(`${base}/${id}`, 'GET', options.requester);
    if (read.status !== 200) {
      if (read.status !== 0 && read.status !== 503) {
        tally.unclean.push(`read ${read.status} ${JSON.stringify(read.body).slice(0, 200)}`);
        return;
      }
      await pause(200);
      continue;
    }
    const t = read.body;
    const step = nextStep(t, cancelAt, shortReceipt);
    if (!step) return;
    const token =
      step.action === 'approve' || step.action === 'cancel' ? options.approver : options.requester;
    const reply = await call(`${base}/${id}/${step.action}`, 'POST', token, step.body);
    if (reply.status === 200) continue;
    if (reply.status !== 0 && reply.status !== 503 && reply.status !== 409) {
      tally.unclean.push(`${step.action} ${reply.status} ${JSON.stringify(reply.body).slice(0, 200)}`);
      return;
    }
    await pause(200);
  }
}

function nextStep(
  t: Transfer,
  cancelAt: CancelPoint,
  shortReceipt: boolean,
): { action: string; body: unknown } | null {
  const plain = { reason: 'chaos' };
  if (t.status === cancelAt && t.reservationStatus !== 'pending') return { action: 'cancel', body: plain };
  switch (t.status) {
    case 'requested':
      return { action: 'approve', body: plain };
    case 'approved':
      return { action: 'start-picking', body: plain };
    case 'picking_started':
      return { action: 'pack', body: plain };
    case 'packed':
      return { action: 'ship', body: plain };
    case 'shipped':
      return {
        action: 'receive',
        body: {
          lines: t.lines.map((line) => {
            const shipped = line.shippedQuantity ?? line.quantity;
            return {
              lineId: line.lineId,
              receivedQuantity: shortReceipt ? Math.max(0, shipped - 1) : shipped,
            };
          }),
        },
      };
    case 'received':
      return { action: 'complete', body: plain };
    default:
      return null;
  }
}

/**
 * A WebSocket client of one channel that survives its gateway: when the connection drops it connects again
 * (to any gateway that answers) and resumes with the cursor of the last event it got. It keeps every event
 * id it received, across connections, and any `reset` (a gap the gateway admits to).
 */
export class ResumingClient {
  readonly ids: string[] = [];
  /** Stream sequence the subscription started after: the client expects every later event of its channel. */
  startSeq = -1;
  resets = 0;
  reconnects = 0;
  private cursor: string | undefined;
  private connection: TestWsClient | null = null;
  private stopped = false;
  private counted = 0;

  constructor(
    readonly channel: string,
    private readonly gatewayUrls: () => string[],
    private readonly token: string,
    private readonly first: number,
  ) {}

  /** Connects and subscribes; resolves once subscribed. Keeps itself connected until `stop()`. */
  async start(): Promise<void> {
    await this.connect(this.first);
  }

  private async connect(attempt: number): Promise<void> {
    for (let i = attempt; !this.stopped; i++) {
      const urls = this.gatewayUrls();
      const client = await TestWsClient.connect(urls[i % urls.length]!, { token: this.token }).catch(
        () => null,
      );
      if (!client) {
        await pause(250);
        continue;
      }
      this.counted = 0;
      client.socket.on('message', () => this.take(client));
      client.send({
        type: 'subscribe',
        channel: this.channel,
        ...(this.cursor ? { cursor: this.cursor } : {}),
      });
      const subscribed = await client
        .waitFor((frame) => frame.channel === this.channel && frame.type === 'subscribed', {
          timeoutMs: 20_000,
        })
        .catch(() => null);
      if (!subscribed) {
        await client.terminate();
        await pause(250);
        continue;
      }
      if (this.startSeq < 0) {
        this.startSeq = decodeCursor(subscribed.cursor)?.seq ?? 0;
        this.cursor = subscribed.cursor;
      }
      this.connection = client;
      void client.closed.then(() => {
        if (this.stopped) return;
        this.reconnects++;
        this.connection = null;
        void this.connect(i + 1);
      });
      return;
    }
  }

  /** Records the new event frames of a connection (the `message` listener runs after TestWsClient's). */
  private take(client: TestWsClient): void {
    const frames = client.frames;
    for (; this.counted < frames.length; this.counted++) {
      const frame = frames[this.counted]!;
      if (frame.channel !== this.channel) continue;
      if (frame.type === 'reset') this.resets++;
      if (frame.id && frame.cursor) {
        this.ids.push(frame.id);
        this.cursor = frame.cursor;
      }
    }
    // Once subscribed nobody waits on this connection's frames: drop them, a 10-minute run would keep millions.
    if (this.connection === client) {
      frames.length = 0;
      this.counted = 0;
    }
  }

  get connected(): boolean {
    return this.connection !== null && !this.connection.isClosed;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.connection?.close();
  }
}
