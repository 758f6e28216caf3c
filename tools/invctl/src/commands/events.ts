import type { Command } from 'commander';
import type { CommandContext, Runner } from '../lib/context.js';
import { type DecodedRow, decodeMessage, rowSummary, rowType } from '../lib/decode.js';
import { EXIT, UsageError } from '../lib/errors.js';
import { withBroker } from '../lib/nats.js';
import { openReader } from '../lib/reader.js';
import { addSelectionOptions, type SelectionFlags, selectionOf } from '../lib/selection-options.js';
import { streamingTable } from '../lib/table.js';

export interface EventsFlags extends SelectionFlags {
  follow?: boolean;
}

const TABLE = streamingTable([
  { header: 'SEQ', width: 9, align: 'right' },
  { header: 'TIME', width: 24 },
  { header: 'TYPE', width: 28 },
  { header: 'SUBJECT', width: 72 },
  { header: 'SUMMARY', width: 0 },
]);

function rowCells(row: DecodedRow): string[] {
  return [String(row.seq), row.time, rowType(row), row.subject, rowSummary(row)];
}

export async function eventsCommand(ctx: CommandContext, flags: EventsFlags): Promise<number> {
  const selection = selectionOf(flags);
  if (flags.follow && (flags.toSeq !== undefined || flags.until !== undefined)) {
    throw new UsageError('--follow reads until Ctrl-C; it cannot be combined with --to-seq or --until');
  }
  const counts = { shown: 0, invalid: 0, first: 0, last: 0 };
  await withBroker(
    ctx.natsUrl,
    async (broker) => {
      const reader = await openReader(broker, flags.stream, selection, {
        follow: flags.follow,
        signal: ctx.io.signal,
      });
      if (!ctx.out.json) ctx.io.stdout.write(TABLE.header);
      for await (const message of reader.messages) {
        const row = decodeMessage(flags.stream, message);
        if (ctx.out.json) ctx.out.record(row);
        else ctx.io.stdout.write(TABLE.line(rowCells(row)));
        counts.shown++;
        if (!row.valid) counts.invalid++;
        counts.first ||= row.seq;
        counts.last = row.seq;
      }
    },
    { reconnect: flags.follow },
  );
  if (!ctx.out.json) {
    const range = counts.shown > 0 ? ` (seq ${counts.first}..${counts.last})` : '';
    ctx.out.note(
      `${counts.shown} message(s), ${counts.invalid} invalid, ${selection.label} of ${flags.stream}${range}`,
    );
  }
  return EXIT.ok;
}

export function registerEvents(program: Command, run: Runner): void {
  addSelectionOptions(
    program
      .command('events')
      .description(
        'print events of a stream, decoded and validated against the contracts (invalid ones shown as such)',
      ),
  )
    .option('-f, --follow', 'keep printing new events until Ctrl-C')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  invctl events --channel warehouse:w1 --since 15m',
        '  invctl events --subject "transfer.t-42.>" --json',
        '  invctl events --from-seq 1200 --to-seq 1300',
        '  invctl events --channel product:p1 --follow',
        '',
        'With --json every line is one object: {seq, time, subject, valid, event} or {…, valid: false, error, payload}.',
      ].join('\n'),
    )
    .action((flags: EventsFlags, cmd: Command) => run(cmd, (ctx) => eventsCommand(ctx, flags)));
}
