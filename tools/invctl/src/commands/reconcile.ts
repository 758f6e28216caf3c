import { type Command, Option } from 'commander';
import type { CommandContext, Runner } from '../lib/context.js';
import { withDatabase } from '../lib/database.js';
import { EXIT } from '../lib/errors.js';
import { parseWholeNumber } from '../lib/parse.js';
import type { Column } from '../lib/table.js';
import { loadInventorySides, loadTransfers, queueInTransferOutbox } from '../reconcile/load.js';
import { reconcileTransfer, type TransferDifference } from '../reconcile/transfers.js';
import { DEFAULT_INVENTORY_DATABASE_URL } from './rebuild.js';

export const DEFAULT_TRANSFER_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/transfer';

interface ReconcileFlags {
  transferDatabase: string;
  inventoryDatabase: string;
  /** Seconds: transfers changed more recently are still in flight and skipped. */
  minAge: number;
  repair?: boolean;
}

type Row = Omit<TransferDifference, 'repair'> & { repairEventId: string | null; repair: string };

const COLUMNS: Column<Row>[] = [
  { header: 'TRANSFER', value: (r) => r.transferId },
  { header: 'STATUS', value: (r) => `${r.status} v${r.transferVersion}` },
  { header: 'SAGA', value: (r) => (r.sagaState ? `${r.sagaState} v${r.sagaVersion}` : '(none)') },
  { header: 'PROBLEM', value: (r) => r.problem },
  { header: 'REPAIR', value: (r) => r.repair },
];

/**
 * Compares every transfer (transfer database) with the saga, reservations and movements it caused in inventory
 * and reports each difference. `--repair` queues, in the transfer service's outbox, the transfer's current state
 * as the event inventory missed, with an id derived from the transfer and its version: a second repair queues
 * nothing, and inventory's inbox applies it once.
 */
export async function reconcileTransfersCommand(ctx: CommandContext, flags: ReconcileFlags): Promise<number> {
  const before = new Date(Date.now() - flags.minAge * 1000);
  const sides = await withDatabase(
    flags.inventoryDatabase,
    { name: 'transfer_saga', service: 'inventory' },
    loadInventorySides,
  );
  const rows = await withDatabase(
    flags.transferDatabase,
    { name: 'transfer', service: 'transfer' },
    async (db) => {
      const out: Row[] = [];
      for (const transfer of await loadTransfers(db, before)) {
        const side = sides.get(transfer.transferId) ?? { saga: null, reservations: {}, reservedHeld: 0 };
        for (const { repair, ...difference } of reconcileTransfer(transfer, side)) {
          let outcome = repair ? `would queue ${repair.type}` : 'manual';
          if (repair && flags.repair) {
            outcome = (await queueInTransferOutbox(db, repair))
              ? `queued ${repair.type}`
              : `already queued ${repair.type}`;
          }
          out.push({ ...difference, repairEventId: repair?.id ?? null, repair: outcome });
        }
      }
      return out;
    },
  );
  if (ctx.out.json) for (const row of rows) ctx.out.record(row);
  else if (rows.length === 0) ctx.out.note('no differences');
  else ctx.out.table(COLUMNS, rows);
  return rows.length === 0 ? EXIT.ok : EXIT.differences;
}

export function registerReconcile(
  program: Command,
  run: Runner,
  env: Record<string, string | undefined>,
): void {
  const reconcile = program
    .command('reconcile')
    .description('compare what one service did with what another expects, and repair what is missing');
  reconcile
    .command('transfers')
    .description(
      "compare every transfer's state with the reservations and movements it caused in inventory; report each difference",
    )
    .option(
      '--transfer-database <url>',
      'the transfer service database',
      env.TRANSFER_DATABASE_URL || DEFAULT_TRANSFER_DATABASE_URL,
    )
    .option(
      '--inventory-database <url>',
      'the inventory service database',
      env.INVENTORY_DATABASE_URL || DEFAULT_INVENTORY_DATABASE_URL,
    )
    .addOption(
      new Option('--min-age <seconds>', 'skip transfers changed more recently (their events are in flight)')
        .argParser(parseWholeNumber(0))
        .default(60),
    )
    .option('--repair', "queue the event inventory missed in the transfer service's outbox (idempotent)")
    .addHelpText(
      'after',
      [
        '',
        'Exit code 1 when there are differences (also with --repair: the repair is applied asynchronously;',
        'run again to check).',
        '',
        'Examples:',
        '  invctl reconcile transfers',
        '  invctl reconcile transfers --repair --json',
      ].join('\n'),
    )
    .action((flags: ReconcileFlags, cmd: Command) =>
      run(cmd, (ctx) => reconcileTransfersCommand(ctx, flags)),
    );
}
