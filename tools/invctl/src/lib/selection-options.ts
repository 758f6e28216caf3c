import { EVENTS_STREAM } from '@inv/contracts';
import { type Command, Option } from 'commander';
import { parsePositive, parseSeq, parseSubjectFilter, parseTime } from './parse.js';
import { buildSelection, type Selection, type SelectionOptions } from './selection.js';

/** The options that select messages, shared by `events` and `replay`. */
export function addSelectionOptions(command: Command): Command {
  return command
    .option('--stream <name>', 'stream to read', EVENTS_STREAM)
    .addOption(
      new Option('--subject <filter>', 'subject filter, wildcards allowed (inventory.product.p1.>)')
        .argParser(parseSubjectFilter)
        .conflicts('channel'),
    )
    .option(
      '--channel <channel>',
      'a gateway channel: global, product:P, warehouse:W, variant:V, uom:U, product:P:warehouse:W, transfer:T',
    )
    .option('--from-seq <n>', 'first stream sequence (inclusive)', parseSeq)
    .option('--to-seq <n>', 'last stream sequence (inclusive)', parseSeq)
    .option(
      '--since <time>',
      'from this time: ISO (2026-11-22T10:00:00Z) or back from now (15m, 2h, 7d)',
      (t) => parseTime(t),
    )
    .option('--until <time>', 'up to this time: ISO or back from now', (t) => parseTime(t))
    .option('--limit <n>', 'at most this many messages', parsePositive);
}

export type SelectionFlags = SelectionOptions & { stream: string };

export function selectionOf(flags: SelectionFlags): Selection {
  return buildSelection(flags);
}
