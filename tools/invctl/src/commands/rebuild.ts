import { EVENTS_STREAM } from '@inv/contracts';
import { type Command, Option } from 'commander';
import pg from 'pg';
import type { CommandContext, Runner } from '../lib/context.js';
import { CliError, EXIT } from '../lib/errors.js';
import { withBroker } from '../lib/nats.js';
import {
  chainDifferences,
  type Difference,
  diffStock,
  reservationDifferences,
  type StockState,
} from '../rebuild/diff.js';
import {
  ledgerChainBreaks,
  liveRecords,
  recordsFromEvents,
  recordsFromLedger,
  reservationHoldBreaks,
} from '../rebuild/inventory.js';

export const DEFAULT_INVENTORY_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/inventory';

interface RebuildFlags {
  database: string;
  from: 'ledger' | 'events';
  stream: string;
}

export interface RebuildReport {
  service: 'inventory';
  source: 'ledger' | 'events';
  liveRecords: number;
  rebuiltRecords: number;
  differences: Difference[];
  notes: string[];
}

async function withDatabase<T>(url: string, work: (db: pg.Client) => Promise<T>): Promise<T> {
  const db = new pg.Client({ connectionString: url, application_name: 'invctl' });
  try {
    await db.connect();
  } catch (error) {
    throw new CliError(`PostgreSQL is not reachable at ${where(url)}: ${(error as Error).message}`);
  }
  try {
    const { rows } = await db.query(`select to_regclass('inventory_record') is not null as ok`);
    if (!rows[0]?.ok) throw new CliError(`no inventory tables in ${where(url)} (wrong --database?)`);
    return await work(db);
  } finally {
    await db.end().catch(() => undefined);
  }
}

/** Where the database is, without the credentials of its URL. */
function where(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.host}${parsed.pathname}`;
  } catch {
    return '(unparseable URL)';
  }
}

/**
 * Recomputes every stock record from the movement ledger (or from the `inventory.updated` events) and compares
 * it with the live `inventory_record` table. Read-only: it reports, it never repairs.
 */
export async function rebuildInventory(ctx: CommandContext, flags: RebuildFlags): Promise<RebuildReport> {
  const notes: string[] = [];
  const { live, rebuilt, extra } = await withDatabase(flags.database, async (db) => {
    if (flags.from === 'ledger') {
      // One snapshot, so a movement committed between the two reads cannot show up as a difference.
      await db.query('begin isolation level repeatable read read only');
      try {
        const live = await liveRecords(db);
        const rebuilt = await recordsFromLedger(db);
        const extra = [
          ...chainDifferences(await ledgerChainBreaks(db)),
          ...reservationDifferences(await reservationHoldBreaks(db)),
        ];
        return { live, rebuilt, extra };
      } finally {
        await db.query('rollback');
      }
    }
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
    return { live: await liveRecords(db), rebuilt: fromEvents.records as StockState[], extra: [] };
  });
  return {
    service: 'inventory',
    source: flags.from,
    liveRecords: live.length,
    rebuiltRecords: rebuilt.length,
    differences: [...diffStock(live, rebuilt), ...extra],
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
        `${report.differences.length} difference(s)`,
    );
  }
  return report.differences.length > 0 ? EXIT.differences : EXIT.ok;
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
    .addHelpText(
      'after',
      [
        '',
        'Exit code 1 when there are differences. Read-only: nothing is repaired.',
        '',
        'Examples:',
        '  invctl rebuild inventory',
        '  invctl rebuild inventory --from events --json',
        '  invctl rebuild inventory --database postgres://postgres@db:5432/inventory',
      ].join('\n'),
    )
    .action((flags: RebuildFlags, cmd: Command) => run(cmd, (ctx) => rebuildCommand(ctx, flags)));
}
