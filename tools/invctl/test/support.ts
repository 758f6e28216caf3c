import { PassThrough } from 'node:stream';
import {
  createEvent,
  type DomainEvent,
  type EventOf,
  subjectOf,
  type TransferEventType,
} from '@inv/contracts';
import { ensureEventsStream } from '@inv/platform';
import { startTestNats, type TestNats } from '@inv/testkit';
import {
  type JetStreamClient,
  type JetStreamManager,
  jetstream,
  jetstreamManager,
  type PubAck,
} from '@nats-io/jetstream';
import type { NatsConnection } from '@nats-io/nats-core';
import { connect } from '@nats-io/transport-node';
import { type Io, REPLAY_HEADERS, run } from '../src/index.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface CliOptions {
  signal?: AbortSignal;
  env?: Record<string, string>;
  /** Pretend to be on a terminal and type this answer to a confirmation question. */
  answer?: string;
  /** Sees stdout as it is written (a live tail never returns on its own). */
  onStdout?: (text: string) => void;
}

/** Runs the CLI in-process, as `invctl <argv>`, capturing what it writes. */
export async function runCli(argv: string[], options: CliOptions = {}): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const interactive = options.answer !== undefined;
  const stdin = Object.assign(new PassThrough(), { isTTY: interactive });
  if (interactive) stdin.end(`${options.answer}\n`);
  const io: Io = {
    stdout: {
      write: (text: string) => {
        stdout += text;
        options.onStdout?.(stdout);
        return true;
      },
    },
    stderr: { write: (text: string) => (stderr += text), isTTY: interactive },
    stdin,
    env: options.env ?? {},
    signal: options.signal,
  };
  const code = await run(argv, io);
  return { code, stdout, stderr };
}

/** The CLI bound to one NATS server. */
export function cliFor(natsUrl: string) {
  return (argv: string[], options?: CliOptions) => runCli([...argv, '--nats', natsUrl], options);
}

/** NDJSON output parsed line by line. */
// biome-ignore lint/suspicious/noExplicitAny: tests inspect JSON output loosely
export function jsonLines(text: string): any[] {
  return text
    .split('\n')
    .filter((line) => line.trim().length > 0)
    .map((line) => JSON.parse(line));
}

/** The file's own NATS server with the EVENTS stream, a connection of the test's own, and the CLI bound to it. */
export interface NatsFixture {
  nats: TestNats;
  nc: NatsConnection;
  jsm: JetStreamManager;
  cli: ReturnType<typeof cliFor>;
  close(): Promise<void>;
}

export async function natsFixture(): Promise<NatsFixture> {
  const nats = await startTestNats();
  const nc = await connect({ servers: nats.url });
  const jsm = await jetstreamManager(nc);
  await ensureEventsStream(jsm);
  return {
    nats,
    nc,
    jsm,
    cli: cliFor(nats.url),
    async close() {
      await nc.close();
      await nats.stop();
    },
  };
}

export function stockUpdated(
  key: { productId: string; warehouseId: string; inventoryId?: string },
  version: number,
  quantityAvailable = version * 10,
): EventOf<'inventory.updated'> {
  const inventoryId = key.inventoryId ?? `inv-${key.productId}-${key.warehouseId}`;
  return createEvent(
    'inventory.updated',
    {
      inventoryId,
      productId: key.productId,
      warehouseId: key.warehouseId,
      variantId: null,
      uomId: null,
      quantityAvailable,
      quantityReserved: 0,
      minimumStock: 0,
      version,
      previousQuantity: quantityAvailable - 10,
      changeAmount: 10,
      previousReserved: 0,
      reservedChange: 0,
      movementType: 'in',
      movementId: String(version),
      transferId: null,
      reason: null,
      source: 'invctl-test',
      location: null,
      timestamp: new Date().toISOString(),
    },
    { aggregate: { type: 'inventory', id: inventoryId, version } },
  );
}

export function transferEvent(
  type: TransferEventType,
  transfer: { transferId: string; from: string; to: string },
  version: number,
): DomainEvent {
  return createEvent(
    type,
    {
      transferId: transfer.transferId,
      sourceWarehouseId: transfer.from,
      destinationWarehouseId: transfer.to,
      status: 'requested',
      previousStatus: null,
      reservationStatus: 'none',
      version,
      lines: [
        {
          lineId: 'l1',
          productId: 'p1',
          variantId: null,
          uomId: null,
          quantity: 1,
          shippedQuantity: null,
          receivedQuantity: null,
          discrepancy: null,
        },
      ],
      actor: 'invctl-test',
      reason: null,
      timestamp: new Date().toISOString(),
    },
    { aggregate: { type: 'transfer', id: transfer.transferId, version } },
  );
}

/** Publishes events as the outbox relay would (message id = event id), `window` at a time; returns their seqs. */
export async function publishEvents(
  nc: NatsConnection,
  events: DomainEvent[],
  window = 256,
): Promise<number[]> {
  const js: JetStreamClient = jetstream(nc);
  const seqs: number[] = [];
  for (let i = 0; i < events.length; i += window) {
    const acks: PubAck[] = await Promise.all(
      events.slice(i, i + window).map((e) => js.publish(subjectOf(e), JSON.stringify(e), { msgID: e.id })),
    );
    seqs.push(...acks.map((a) => a.seq));
  }
  return seqs;
}

export interface Replayed {
  seq: number;
  subject: string;
  eventId: string;
  sourceSeq: number;
  msgId: string | undefined;
}

/** Everything a replay target holds, in stream order, with the replay headers. */
export async function readTarget(nc: NatsConnection, stream: string): Promise<Replayed[]> {
  const consumer = await jetstream(nc).consumers.get(stream);
  if ((await consumer.info(true)).num_pending === 0) return [];
  const messages = await consumer.consume({ max_messages: 1_000 });
  const out: Replayed[] = [];
  for await (const msg of messages) {
    out.push({
      seq: msg.seq,
      subject: msg.subject,
      eventId: msg.json<DomainEvent>().id,
      sourceSeq: Number(msg.headers?.get(REPLAY_HEADERS.sourceSeq)),
      msgId: msg.headers?.get('Nats-Msg-Id'),
    });
    if (msg.info.pending === 0) break;
  }
  await messages.close();
  await consumer.delete().catch(() => undefined);
  return out;
}
