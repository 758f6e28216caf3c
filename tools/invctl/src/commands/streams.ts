import type { ConsumerInfo, StreamInfo } from '@nats-io/jetstream';
import type { Command } from 'commander';
import { type CommandContext, formatBytes, type Runner } from '../lib/context.js';
import { EXIT } from '../lib/errors.js';
import { type Broker, natsTime, withBroker } from '../lib/nats.js';
import type { Column } from '../lib/table.js';

export interface ConsumerLag {
  name: string;
  filterSubject: string | null;
  durable: boolean;
  /** Messages matching the filter that were not delivered yet. */
  pending: number;
  /** Delivered but not acknowledged yet. */
  ackPending: number;
  redelivered: number;
  /** Everything the consumer has still to process: pending + ackPending. */
  lag: number;
  deliveredSeq: number;
  ackFloorSeq: number;
}

export interface StreamSummary {
  name: string;
  subjects: string[];
  messages: number;
  bytes: number;
  firstSeq: number;
  firstTime: string | null;
  lastSeq: number;
  lastTime: string | null;
  consumerCount: number;
  consumers?: ConsumerLag[];
}

export function summarizeStream(info: StreamInfo): StreamSummary {
  const s = info.state;
  return {
    name: info.config.name,
    subjects: info.config.subjects ?? [],
    messages: s.messages,
    bytes: s.bytes,
    firstSeq: s.first_seq,
    firstTime: natsTime(s.first_ts)?.toISOString() ?? null,
    lastSeq: s.last_seq,
    lastTime: natsTime(s.last_ts)?.toISOString() ?? null,
    consumerCount: s.consumer_count,
  };
}

export function consumerLag(info: ConsumerInfo): ConsumerLag {
  return {
    name: info.name,
    filterSubject: info.config.filter_subject ?? null,
    durable: Boolean(info.config.durable_name),
    pending: info.num_pending,
    ackPending: info.num_ack_pending,
    redelivered: info.num_redelivered,
    lag: info.num_pending + info.num_ack_pending,
    deliveredSeq: info.delivered.stream_seq,
    ackFloorSeq: info.ack_floor.stream_seq,
  };
}

export async function listConsumers(broker: Broker, stream: string): Promise<ConsumerInfo[]> {
  const consumers: ConsumerInfo[] = [];
  for await (const info of broker.jsm.consumers.list(stream)) consumers.push(info);
  return consumers.sort((a, b) => a.name.localeCompare(b.name));
}

const STREAM_COLUMNS: Column<StreamSummary>[] = [
  { header: 'STREAM', value: (s) => s.name },
  { header: 'SUBJECTS', value: (s) => s.subjects.join(',') },
  { header: 'MESSAGES', value: (s) => s.messages, align: 'right' },
  { header: 'BYTES', value: (s) => formatBytes(s.bytes), align: 'right' },
  { header: 'FIRST SEQ', value: (s) => s.firstSeq, align: 'right' },
  { header: 'FIRST TIME', value: (s) => s.firstTime },
  { header: 'LAST SEQ', value: (s) => s.lastSeq, align: 'right' },
  { header: 'LAST TIME', value: (s) => s.lastTime },
  { header: 'CONSUMERS', value: (s) => s.consumerCount, align: 'right' },
];

export const LAG_COLUMNS: Column<ConsumerLag & { stream: string }>[] = [
  { header: 'STREAM', value: (c) => c.stream },
  { header: 'CONSUMER', value: (c) => c.name },
  { header: 'FILTER', value: (c) => c.filterSubject },
  { header: 'PENDING', value: (c) => c.pending, align: 'right' },
  { header: 'ACK PENDING', value: (c) => c.ackPending, align: 'right' },
  { header: 'LAG', value: (c) => c.lag, align: 'right' },
  { header: 'REDELIVERED', value: (c) => c.redelivered, align: 'right' },
  { header: 'DELIVERED SEQ', value: (c) => c.deliveredSeq, align: 'right' },
  { header: 'ACK FLOOR', value: (c) => c.ackFloorSeq, align: 'right' },
];

export async function streamsCommand(ctx: CommandContext, options: { consumers?: boolean }): Promise<number> {
  const streams = await withBroker(ctx.natsUrl, async (broker) => {
    const summaries: StreamSummary[] = [];
    for await (const info of broker.jsm.streams.list()) {
      const summary = summarizeStream(info);
      if (options.consumers) summary.consumers = (await listConsumers(broker, summary.name)).map(consumerLag);
      summaries.push(summary);
    }
    return summaries.sort((a, b) => a.name.localeCompare(b.name));
  });
  if (ctx.out.json) {
    ctx.out.result(streams, [], []);
    return EXIT.ok;
  }
  if (streams.length === 0) {
    ctx.out.note('no streams');
    return EXIT.ok;
  }
  ctx.out.table(STREAM_COLUMNS, streams);
  if (options.consumers) {
    const lags = streams.flatMap((s) => (s.consumers ?? []).map((c) => ({ ...c, stream: s.name })));
    ctx.out.text('');
    if (lags.length === 0) ctx.out.text('no consumers');
    else ctx.out.table(LAG_COLUMNS, lags);
  }
  return EXIT.ok;
}

export function registerStreams(program: Command, run: Runner): void {
  program
    .command('streams')
    .description('list streams with message counts, first/last sequence and time, bytes and consumers')
    .option('--consumers', "add every consumer's pending, ack-pending and lag")
    .addHelpText('after', '\nExamples:\n  invctl streams\n  invctl streams --consumers --json')
    .action((options: { consumers?: boolean }, cmd: Command) =>
      run(cmd, (ctx) => streamsCommand(ctx, options)),
    );
}
