import type { Command } from 'commander';
import type { CommandContext, Runner } from '../lib/context.js';
import { CliError, EXIT, UsageError } from '../lib/errors.js';
import type { Column } from '../lib/table.js';

interface WebhookFlags {
  webhooksUrl: string;
  token?: string;
}

interface DeadLetterRow {
  deadLetterId: string;
  eventId: string;
  eventType: string;
  streamSequence: number;
  attempts: number;
  lastError: string;
  createdAt: string;
}

interface EndpointRow {
  endpointId: string;
  url: string;
  state: string;
  eventTypes: string[];
  warehouses: string[];
  pausedReason: string | null;
}

/** The webhook bridge's admin API (`services/webhooks`), with an admin token from --token or INVCTL_TOKEN. */
async function callBridge<T>(
  ctx: CommandContext,
  flags: WebhookFlags,
  method: string,
  path: string,
): Promise<T> {
  const token = flags.token ?? ctx.io.env.INVCTL_TOKEN;
  if (!token) throw new UsageError('an admin token is needed: --token or INVCTL_TOKEN');
  let response: Response;
  try {
    response = await fetch(`${flags.webhooksUrl.replace(/\/$/, '')}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}` },
    });
  } catch (error) {
    throw new CliError(`webhook bridge at ${flags.webhooksUrl} unreachable: ${(error as Error).message}`);
  }
  const body = (await response.json().catch(() => ({}))) as T & { message?: string; code?: string };
  if (!response.ok) {
    const exit = response.status === 400 || response.status === 403 ? EXIT.usage : EXIT.failure;
    throw new CliError(
      `${method} ${path}: ${response.status} ${body.code ?? ''} ${body.message ?? ''}`.trim(),
      exit,
    );
  }
  return body;
}

const ENDPOINT_COLUMNS: Column<EndpointRow>[] = [
  { header: 'ENDPOINT', value: (e) => e.endpointId },
  { header: 'STATE', value: (e) => e.state },
  { header: 'URL', value: (e) => e.url },
  { header: 'TYPES', value: (e) => e.eventTypes.join(',') },
  { header: 'WAREHOUSES', value: (e) => e.warehouses.join(',') },
  { header: 'PAUSED BECAUSE', value: (e) => e.pausedReason },
];

const DEAD_LETTER_COLUMNS: Column<DeadLetterRow>[] = [
  { header: 'ID', value: (d) => d.deadLetterId, align: 'right' },
  { header: 'SEQ', value: (d) => d.streamSequence, align: 'right' },
  { header: 'EVENT', value: (d) => d.eventId },
  { header: 'TYPE', value: (d) => d.eventType },
  { header: 'ATTEMPTS', value: (d) => d.attempts, align: 'right' },
  { header: 'LAST ERROR', value: (d) => d.lastError },
];

async function redriveCommand(ctx: CommandContext, endpointId: string, ids: string[], flags: WebhookFlags) {
  const chosen =
    ids.length > 0
      ? ids
      : (
          await callBridge<{ items: DeadLetterRow[] }>(
            ctx,
            flags,
            'GET',
            `/api/webhooks/${endpointId}/dead-letters`,
          )
        ).items.map((d) => d.deadLetterId);
  let failed = 0;
  for (const id of chosen) {
    const result = await callBridge<{ delivered: boolean; error?: string }>(
      ctx,
      flags,
      'POST',
      `/api/webhooks/${endpointId}/dead-letters/${id}/redrive`,
    );
    if (!result.delivered) failed++;
    if (ctx.out.json) ctx.out.record({ deadLetterId: id, ...result });
    else ctx.out.text(`${id}: ${result.delivered ? 'delivered' : `failed (${result.error})`}`);
  }
  return failed === 0 ? EXIT.ok : EXIT.failure;
}

export function registerWebhooks(program: Command, run: Runner, env: NodeJS.ProcessEnv): void {
  const webhooks = program
    .command('webhooks')
    .description('webhook endpoints of the bridge: list, resume, dead letters and redrive')
    .option('--webhooks-url <url>', 'the webhook bridge', env.WEBHOOKS_URL ?? 'http://127.0.0.1:3003')
    .option('--token <jwt>', 'an admin token (default: INVCTL_TOKEN)')
    .addHelpText(
      'after',
      '\nExamples:\n  invctl webhooks list\n  invctl webhooks dead-letters <endpointId>\n' +
        '  invctl webhooks redrive <endpointId>            (every dead letter)\n' +
        '  invctl webhooks redrive <endpointId> 12 13\n  invctl webhooks resume <endpointId>',
    );
  const flagsOf = (cmd: Command) => cmd.optsWithGlobals<WebhookFlags>();
  webhooks
    .command('list')
    .description('registered endpoints and their state')
    .action((_flags: unknown, cmd: Command) =>
      run(cmd, async (ctx) => {
        const { items } = await callBridge<{ items: EndpointRow[] }>(
          ctx,
          flagsOf(cmd),
          'GET',
          '/api/webhooks',
        );
        ctx.out.result({ items }, ENDPOINT_COLUMNS, items);
        return EXIT.ok;
      }),
    );
  webhooks
    .command('dead-letters <endpointId>')
    .description('events of an endpoint that ran out of retries')
    .action((endpointId: string, _flags: unknown, cmd: Command) =>
      run(cmd, async (ctx) => {
        const { items } = await callBridge<{ items: DeadLetterRow[] }>(
          ctx,
          flagsOf(cmd),
          'GET',
          `/api/webhooks/${endpointId}/dead-letters`,
        );
        ctx.out.result({ items }, DEAD_LETTER_COLUMNS, items);
        return EXIT.ok;
      }),
    );
  webhooks
    .command('redrive <endpointId> [deadLetterIds...]')
    .description('send dead letters again now (all of the endpoint when no id is given)')
    .action((endpointId: string, ids: string[], _flags: unknown, cmd: Command) =>
      run(cmd, (ctx) => redriveCommand(ctx, endpointId, ids, flagsOf(cmd))),
    );
  webhooks
    .command('resume <endpointId>')
    .description('resume a paused endpoint where its consumer stopped')
    .action((endpointId: string, _flags: unknown, cmd: Command) =>
      run(cmd, async (ctx) => {
        const endpoint = await callBridge<EndpointRow>(
          ctx,
          flagsOf(cmd),
          'POST',
          `/api/webhooks/${endpointId}/resume`,
        );
        ctx.out.text(`${endpoint.endpointId}: ${endpoint.state}`);
        return EXIT.ok;
      }),
    );
}
