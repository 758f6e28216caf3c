import { EVENTS_STREAM } from '@inv/contracts';
import { type Command, Option } from 'commander';
import type pg from 'pg';
import type { CommandContext, Runner } from '../lib/context.js';
import { withDatabase } from '../lib/database.js';
import { EXIT } from '../lib/errors.js';
import { withBroker } from '../lib/nats.js';
import { parsePositive } from '../lib/parse.js';
import { startProgress } from '../lib/progress.js';
import {
  chainDifferences,
  type Difference,
  diffStock,
  reservationDifferences,
  type StockState,
} from '../rebuild/diff.js';
import {
  countLiveRecords,
  ledgerBatches,
  liveRecords,
  recordsFromEvents,
  reservationHoldBreaks,
} from '../rebuild/inventory.js';

export const DEFAULT_INVENTORY_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/inventory';

interface RebuildFlags {
  database: string;
  from: 'ledger' | 'events';
  stream: string;
  /** Differences kept in the report (all are counted). */
  maxDifferences?: number;
  /** Records compared per batch from the ledger. */
  batchSize?: number;
}

const DEFAULT_MAX_DIFFERENCES = 1_000;
const DEFAULT_BATCH_SIZE = 5_000;

export interface RebuildReport {
  service: 'inventory';
  source: 'ledger' | 'events';
  liveRecords: number;
  rebuiltRecords: number;
  /** The first `--max-differences` differences, by record. */
  differences: Difference[];
  /** Every difference found, also those left out of `differences`. */
  differenceCount: number;
  notes: string[];
}

/** Keeps the first `max` differences and counts them all, so a badly broken table cannot exhaust memory. */
class DifferenceLog {
  readonly kept: Difference[] = [];
  count = 0;
  constructor(private readonly max: number) {}

  add(differences: Difference[]): void {
    this.count += differences.length;
    for (const d of differences) if (this.kept.length < this.max) this.kept.push(d);
  }
}

function byRecord(a: Difference, b: Difference): number {
  return a.inventoryId < b.inventoryId ? -1 : a.inventoryId > b.inventoryId ? 1 : 0;
}

/**
 * Compares the live records with the ledger one keyset batch at a time inside one repeatable-read snapshot
 * (a movement committed meanwhile cannot show up as a difference); memory holds one batch.
 */
async function compareWithLedger(
  ctx: CommandContext,
  db: pg.Client,
  flags: RebuildFlags,
  log: DifferenceLog,
): Promise<{ live: number; rebuilt: number }> {
  await db.query('begin isolation level repeatable read read only');
  try {
    const progress = startProgress(ctx.io, {
      json: ctx.out.json,
      total: await countLiveRecords(db),
      label: 'rebuild inventory',
    });
    let live = 0;
    let rebuilt = 0;
    for await (const batch of ledgerBatches(db, flags.batchSize ?? DEFAULT_BATCH_SIZE)) {
      live += batch.live.length;
      rebuilt += batch.rebuilt.length;
      // Stable sort: a record's field differences stay in field order, its chain breaks after them.
      log.add([...diffStock(batch.live, batch.rebuilt), ...chainDifferences(batch.breaks)].sort(byRecord));
      progress.update(live);
    }
    progress.stop();
    // Order reservations: what each active one holds per record against its ledger rows (one aggregate).
    log.add(reservationDifferences(await reservationHoldBreaks(db)));
    return { live, rebuilt };
  } finally {
    await db.query('rollback');
  }
}

const INVENTORY_TABLE = { name: 'inventory_record', service: 'inventory' };

/**
 * Recomputes every stock record from the movement ledger (or from the `inventory.updated` events) and compares
 * it with the live `inventory_record` table. Read-only: it reports, it never repairs.
 */
export async function rebuildInventory(ctx: CommandContext, flags: RebuildFlags): Promise<RebuildReport> {
  const notes: string[] = [];
  const log = new DifferenceLog(flags.maxDifferences ?? DEFAULT_MAX_DIFFERENCES);
  const counts = await withDatabase(flags.database, INVENTORY_TABLE, async (db) => {
    if (flags.from === 'ledger') return compareWithLedger(ctx, db, flags, log);
    const fromEvents = await withBroker(ctx.natsUrl, (broker) => recordsFromEvents(broker, flags.stream));
    if (fromEvents.invalid.length > 0) {
      notes.push(
        `${fromEvents.invalid.length} invalid inventory.updated message(s) left out (seq ${fromEvents.invalid.slice(0, 10).join(', ')})`,
      );
    }
    if (fromEvents.firstSeq > 1) {
      notes.push(
        `${flags.stream} starts at seq ${fromEvents.firstSeq}: records whose events aged out show as missing; use --from ledger`,
      );
    }
    notes.push(
      'events still in the outbox (not yet published) show as differences in version and quantities',
    );
    const live = await liveRecords(db);
    log.add(diffStock(live, fromEvents.records as StockState[]));
    return { live: live.length, rebuilt: fromEvents.records.length };
  });
  if (log.count > log.kept.length) {
    notes.push(`${log.count} difference(s): the first ${log.kept.length} are listed (--max-differences)`);
  }
  return {
    service: 'inventory',
    source: flags.from,
    liveRecords: counts.live,
    rebuiltRecords: counts.rebuilt,
    differences: log.kept,
    differenceCount: log.count,
    notes,
  };
}

export async function rebuildCommand(ctx: CommandContext, flags: RebuildFlags): Promise<number> {
  const report = await rebuildInventory(ctx, flags);
  ctx.out.result(
    report,
    [
      { header: 'RECORD', value: (d: Difference) => d.inventoryId },
      { header: 'FIELD', value: (d: Difference) => d.field },
      { header: 'LIVE', value: (d: Difference) => d.live },
      { header: 'REBUILT', value: (d: Difference) => d.rebuilt },
    ],
    report.differences,
  );
  if (!ctx.out.json) {
    for (const note of report.notes) ctx.out.note(`note: ${note}`);
    ctx.out.note(
      `${report.liveRecords} live record(s), ${report.rebuiltRecords} rebuilt from the ${report.source}: ` +
        `${report.differenceCount} difference(s)`,
    );
  }
  return report.differenceCount > 0 ? EXIT.differences : EXIT.ok;
}

export function registerRebuild(
  program: Command,
  run: Runner,
  env: Record<string, string | undefined>,
): void {
  const rebuild = program
    .command('rebuild')
    .description(
      "rebuild a service's read model from its ledger or the event stream and compare it with the live tables",
    );
  rebuild
    .command('inventory')
    .description(
      'recompute every stock record (available, reserved, minimum stock, version) and what each order reservation holds, and report each difference',
    )
    .option(
      '--database <url>',
      'the inventory service database',
      env.INVENTORY_DATABASE_URL || DEFAULT_INVENTORY_DATABASE_URL,
    )
    .addOption(
      new Option('--from <source>', 'what to rebuild from').choices(['ledger', 'events']).default('ledger'),
    )
    .option('--stream <name>', 'stream of the events (with --from events)', EVENTS_STREAM)
    .addOption(
      new Option('--max-differences <n>', 'differences listed (all are counted)')
        .argParser(parsePositive)
        .default(DEFAULT_MAX_DIFFERENCES),
    )
    .addOption(
      new Option('--batch-size <n>', 'records compared per batch (with --from ledger)')
        .argParser(parsePositive)
        .default(DEFAULT_BATCH_SIZE),
    )
    .addHelpText(
      'after',
      [
        '',
        'Exit code 1 when there are differences. Read-only: nothing is repaired.',
        '',
        'Examples:',
        '  invctl rebuild inventory',
        '  invctl rebuild inventory --max-differences 50   # a million broken records still print 50',
        '  invctl rebuild inventory --from events --json',
        '  invctl rebuild inventory --database postgres://postgres@db:5432/inventory',
      ].join('\n'),
    )
    .action((flags: RebuildFlags, cmd: Command) => run(cmd, (ctx) => rebuildCommand(ctx, flags)));
}
