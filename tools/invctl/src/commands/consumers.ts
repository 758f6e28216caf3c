import { EVENTS_STREAM } from '@inv/contracts';
import { type RetentionPressure, retentionPressure } from '@inv/platform';
import { type ConsumerConfig, type ConsumerInfo, DeliverPolicy, type StreamInfo } from '@nats-io/jetstream';
import { type Command, Option } from 'commander';
import type { CommandContext, Runner } from '../lib/context.js';
import { CliError, EXIT, UsageError } from '../lib/errors.js';
import { confirm } from '../lib/io.js';
import { type Broker, orNotFound, withBroker } from '../lib/nats.js';
import { parseSeq, parseTime } from '../lib/parse.js';
import type { Column } from '../lib/table.js';
import { type ConsumerLag, consumerLag, LAG_COLUMNS, listConsumers } from './streams.js';

interface StreamFlag {
  stream: string;
}

interface ResetFlags extends StreamFlag {
  toSeq?: number;
  toTime?: Date;
  yes?: boolean;
}

type ListRow = ConsumerLag & { stream: string; retention: RetentionPressure };

/** `37 %`, `92 % !` from 80 % of a limit on, `LOST <=n` once the stream discarded unprocessed messages. */
export function formatRetention(p: RetentionPressure): string {
  if (p.status === 'lost') return `LOST <=${p.lost}`;
  const pct = `${Math.round(p.pressure * 100)} %`;
  return p.status === 'warning' ? `${pct} !` : pct;
}

const LIST_COLUMNS: Column<ListRow>[] = [
  ...LAG_COLUMNS.filter((c) => c.header !== 'STREAM'),
  { header: 'RETENTION', value: (c) => formatRetention(c.retention), align: 'right' },
];

/** Each consumer's unprocessed range against the stream's retention limits (see RetentionWatch). */
async function retentionOf(
  broker: Broker,
  stream: StreamInfo,
  info: ConsumerInfo,
): Promise<RetentionPressure> {
  const head = Math.max(info.ack_floor.stream_seq + 1, stream.state.first_seq);
  const stored =
    head <= stream.state.last_seq
      ? await broker.jsm.streams.getMessage(stream.config.name, { seq: head }).catch(() => null)
      : null;
  return retentionPressure(stream, info, stored?.time ?? null);
}

function details(info: ConsumerInfo): [string, unknown][] {
  const c = info.config;
  const lag = consumerLag(info);
  return [
    ['stream', info.stream_name],
    ['name', info.name],
    ['durable', lag.durable],
    ['filter subject', c.filter_subject ?? '(all)'],
    ['deliver policy', c.deliver_policy],
    ['start sequence', c.opt_start_seq],
    ['start time', c.opt_start_time],
    ['ack policy', c.ack_policy],
    ['ack wait (ms)', c.ack_wait === undefined ? undefined : c.ack_wait / 1e6],
    ['max deliver', c.max_deliver],
    ['max ack pending', c.max_ack_pending],
    ['created', info.created],
    ['delivered stream seq', lag.deliveredSeq],
    ['ack floor stream seq', lag.ackFloorSeq],
    ['pending', lag.pending],
    ['ack pending', lag.ackPending],
    ['lag', lag.lag],
    ['redelivered', lag.redelivered],
    ['waiting pulls', info.num_waiting],
  ];
}

async function consumerInfo(broker: Broker, stream: string, name: string): Promise<ConsumerInfo> {
  return orNotFound(broker.jsm.consumers.info(stream, name), `consumer ${name} on stream ${stream}`);
}

export async function listCommand(ctx: CommandContext, flags: StreamFlag): Promise<number> {
  const { infos, rows } = await withBroker(ctx.natsUrl, async (broker) => {
    const stream = await orNotFound(broker.jsm.streams.info(flags.stream), `stream ${flags.stream}`);
    const infos = await listConsumers(broker, flags.stream);
    const rows: ListRow[] = [];
    for (const info of infos) {
      rows.push({
        ...consumerLag(info),
        stream: info.stream_name,
        retention: await retentionOf(broker, stream, info),
      });
    }
    return { infos, rows };
  });
  const json = infos.map((info, i) => ({ ...info, retention: rows[i]!.retention }));
  ctx.out.result(ctx.out.json ? json : rows, LIST_COLUMNS, rows);
  for (const row of rows.filter((r) => r.retention.status !== 'ok')) {
    ctx.out.note(
      row.retention.status === 'lost'
        ? `${row.name}: the stream discarded up to ${row.retention.lost} message(s) it had not processed`
        : `${row.name}: its unprocessed messages use ${formatRetention(row.retention)} of a retention limit of ${flags.stream}`,
    );
  }
  return EXIT.ok;
}

export async function showCommand(ctx: CommandContext, name: string, flags: StreamFlag): Promise<number> {
  const info = await withBroker(ctx.natsUrl, (broker) => consumerInfo(broker, flags.stream, name));
  const rows = details(info).map(([field, value]) => ({ field, value }));
  ctx.out.result(
    info,
    [
      { header: 'FIELD', value: (r: (typeof rows)[number]) => r.field },
      { header: 'VALUE', value: (r: (typeof rows)[number]) => r.value },
    ],
    rows,
  );
  return EXIT.ok;
}

/** The consumer's own configuration, restarted at a sequence or time. */
export function resetConfig(config: ConsumerConfig, to: { seq?: number; time?: Date }): ConsumerConfig {
  const { opt_start_seq: _seq, opt_start_time: _time, ...rest } = config;
  return to.seq !== undefined
    ? { ...rest, deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: to.seq }
    : { ...rest, deliver_policy: DeliverPolicy.StartTime, opt_start_time: to.time!.toISOString() };
}

/**
 * NATS 2.9 cannot move a consumer in place, so a reset deletes the durable and creates it again with the same
 * configuration starting at the sequence or time. If the new one cannot be created, the old one is put back.
 */
export async function resetCommand(ctx: CommandContext, name: string, flags: ResetFlags): Promise<number> {
  if ((flags.toSeq === undefined) === (flags.toTime === undefined)) {
    throw new UsageError('give exactly one of --to-seq and --to-time');
  }
  const target =
    flags.toSeq !== undefined ? `stream seq ${flags.toSeq}` : `time ${flags.toTime!.toISOString()}`;
  const info = await withBroker(ctx.natsUrl, async (broker) => {
    const current = await consumerInfo(broker, flags.stream, name);
    if (!current.config.durable_name) throw new UsageError(`${name} is not a durable consumer`);
    await confirm(
      ctx.io,
      `Reset consumer ${name} on ${flags.stream} (delivered up to seq ${current.delivered.stream_seq}, ` +
        `${current.num_ack_pending} unacknowledged) to start at ${target}? Its in-flight deliveries are dropped.`,
      flags.yes,
    );
    const wanted = resetConfig(current.config, { seq: flags.toSeq, time: flags.toTime });
    await broker.jsm.consumers.delete(flags.stream, name);
    try {
      return await broker.jsm.consumers.add(flags.stream, wanted);
    } catch (error) {
      await broker.jsm.consumers.add(flags.stream, current.config).catch(() => {
        ctx.out.note(`could not restore ${name}; its configuration was:\n${JSON.stringify(current.config)}`);
      });
      throw new CliError(`could not recreate ${name} at ${target}: ${(error as Error).message}`);
    }
  });
  if (ctx.out.json) ctx.out.result(info, [], []);
  else
    ctx.out.note(
      `consumer ${name} on ${flags.stream} now starts at ${target} (${info.num_pending} message(s) pending)`,
    );
  return EXIT.ok;
}

export async function deleteCommand(
  ctx: CommandContext,
  name: string,
  flags: StreamFlag & { yes?: boolean },
): Promise<number> {
  await withBroker(ctx.natsUrl, async (broker) => {
    const current = await consumerInfo(broker, flags.stream, name);
    await confirm(
      ctx.io,
      `Delete consumer ${name} on ${flags.stream} (lag ${consumerLag(current).lag})? A service that needs it recreates it ` +
        'at start-up from the beginning of the stream.',
      flags.yes,
    );
    await broker.jsm.consumers.delete(flags.stream, name);
  });
  if (ctx.out.json) ctx.out.record({ deleted: name, stream: flags.stream });
  else ctx.out.note(`consumer ${name} on ${flags.stream} deleted`);
  return EXIT.ok;
}

export function registerConsumers(program: Command, run: Runner): void {
  const consumers = program
    .command('consumers')
    .description('show, reset or delete durable consumers')
    .addHelpText(
      'after',
      '\nExamples:\n  invctl consumers list\n  invctl consumers show inventory-transfer-events\n' +
        '  invctl consumers reset transfer-reservation-results --to-time 1h\n  invctl consumers delete old-consumer --yes',
    );
  const stream = () => new Option('--stream <name>', 'stream of the consumer').default(EVENTS_STREAM);
  consumers
    .command('list')
    .description('consumers of a stream with pending, ack-pending and lag')
    .addOption(stream())
    .action((flags: StreamFlag, cmd: Command) => run(cmd, (ctx) => listCommand(ctx, flags)));
  consumers
    .command('show <name>')
    .description("a consumer's configuration and position")
    .addOption(stream())
    .action((name: string, flags: StreamFlag, cmd: Command) =>
      run(cmd, (ctx) => showCommand(ctx, name, flags)),
    );
  consumers
    .command('reset <name>')
    .description(
      'move a durable consumer to a stream sequence or time (recreates it with the same configuration)',
    )
    .addOption(stream())
    .addOption(
      new Option('--to-seq <n>', 'deliver from this stream sequence on')
        .argParser(parseSeq)
        .conflicts('toTime'),
    )
    .option('--to-time <time>', 'deliver from this time on: ISO or back from now (1h)', (t) => parseTime(t))
    .option('-y, --yes', 'do not ask for confirmation')
    .addHelpText(
      'after',
      '\nBack is safe for the services (their inbox skips events already applied); forward skips events for good.',
    )
    .action((name: string, flags: ResetFlags, cmd: Command) =>
      run(cmd, (ctx) => resetCommand(ctx, name, flags)),
    );
  consumers
    .command('delete <name>')
    .description('delete a consumer')
    .addOption(stream())
    .option('-y, --yes', 'do not ask for confirmation')
    .action((name: string, flags: StreamFlag & { yes?: boolean }, cmd: Command) =>
      run(cmd, (ctx) => deleteCommand(ctx, name, flags)),
    );
}
