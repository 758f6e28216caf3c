import {
  DEAD_LETTERS_PREFIX,
  DEAD_LETTERS_STREAM,
  decodeEvent,
  DEAD_LETTER_HEADERS as H,
  type RedriveReply,
  redriveSubject,
} from '@inv/contracts';
import type { MsgHdrs } from '@nats-io/nats-core';
import { headers as natsHeaders } from '@nats-io/nats-core';
import type { Command } from 'commander';
import type { CommandContext, Runner } from '../lib/context.js';
import { CliError, EXIT, UsageError } from '../lib/errors.js';
import { confirm } from '../lib/io.js';
import { type Broker, orNotFound, withBroker } from '../lib/nats.js';
import { parseSeq } from '../lib/parse.js';
import type { Column } from '../lib/table.js';

export interface DeadLetter {
  seq: number;
  service: string;
  subject: string;
  consumer: string;
  reason: string;
  error: string;
  deliveries: number;
  originalSeq: number;
  time: string;
  eventId: string | null;
  eventType: string | null;
  headers: Record<string, string[]>;
  data: string;
}

interface Selection {
  service?: string;
  all?: boolean;
}

function toLetter(seq: number, subject: string, headers: MsgHdrs | undefined, data: Uint8Array): DeadLetter {
  const get = (key: string) => headers?.get(key) ?? '';
  const all: Record<string, string[]> = {};
  for (const [key, values] of headers ?? []) all[key] = values;
  const decoded = decodeEvent(data);
  return {
    seq,
    service: subject.split('.')[1] ?? '',
    subject: get(H.subject),
    consumer: get(H.consumer),
    reason: get(H.reason),
    error: get(H.error),
    deliveries: Number(get(H.deliveries) || 0),
    originalSeq: Number(get(H.seq) || 0),
    time: get(H.time),
    eventId: decoded.ok ? decoded.event.id : null,
    eventType: decoded.ok ? decoded.event.type : null,
    headers: all,
    data: new TextDecoder().decode(data),
  };
}

/** Every dead letter (of one service), oldest first, read with an ordered consumer. */
async function readLetters(broker: Broker, service?: string): Promise<DeadLetter[]> {
  const stream = await orNotFound(
    broker.jsm.streams.info(DEAD_LETTERS_STREAM),
    `stream ${DEAD_LETTERS_STREAM}`,
  );
  if (stream.state.messages === 0) return [];
  const filter = `${DEAD_LETTERS_PREFIX}.${service ?? '*'}.>`;
  const consumer = await broker.js.consumers.get(DEAD_LETTERS_STREAM, { filter_subjects: filter });
  const letters: DeadLetter[] = [];
  for (;;) {
    const msg = await consumer.next({ expires: 2_000 });
    if (!msg) return letters;
    letters.push(toLetter(msg.seq, msg.subject, msg.headers, msg.data));
    if (msg.info.pending === 0) return letters;
  }
}

async function readLetter(broker: Broker, seq: number): Promise<DeadLetter> {
  const stored = await broker.jsm.streams.getMessage(DEAD_LETTERS_STREAM, { seq }).catch(() => null);
  if (!stored) throw new CliError(`dead letter ${seq} not found`);
  return toLetter(stored.seq, stored.subject, stored.header, stored.data);
}

/** The letters named by sequence, or every one (of a service) with `--all`. */
async function select(broker: Broker, seqs: number[], flags: Selection): Promise<DeadLetter[]> {
  if (seqs.length > 0 === Boolean(flags.all)) throw new UsageError('give dead-letter sequences or --all');
  if (flags.all) return readLetters(broker, flags.service);
  const letters: DeadLetter[] = [];
  for (const seq of seqs) letters.push(await readLetter(broker, seq));
  return letters;
}

const LIST_COLUMNS: Column<DeadLetter>[] = [
  { header: 'SEQ', value: (d) => d.seq, align: 'right' },
  { header: 'TIME', value: (d) => d.time },
  { header: 'SERVICE', value: (d) => d.service },
  { header: 'CONSUMER', value: (d) => d.consumer },
  { header: 'SUBJECT', value: (d) => d.subject },
  { header: 'ORIG SEQ', value: (d) => d.originalSeq, align: 'right' },
  { header: 'REASON', value: (d) => d.reason },
  { header: 'DELIVERIES', value: (d) => d.deliveries, align: 'right' },
  { header: 'EVENT', value: (d) => (d.eventType ? `${d.eventType} ${d.eventId}` : '(undecodable)') },
  { header: 'ERROR', value: (d) => (d.error.length > 60 ? `${d.error.slice(0, 57)}...` : d.error) },
];

export async function listCommand(ctx: CommandContext, flags: Selection): Promise<number> {
  const letters = await withBroker(ctx.natsUrl, (broker) => readLetters(broker, flags.service));
  if (ctx.out.json) {
    for (const letter of letters) ctx.out.record(letter);
    return EXIT.ok;
  }
  if (letters.length === 0) ctx.out.note('no dead letters');
  else ctx.out.table(LIST_COLUMNS, letters);
  return EXIT.ok;
}

export async function showCommand(ctx: CommandContext, seq: number): Promise<number> {
  const letter = await withBroker(ctx.natsUrl, (broker) => readLetter(broker, seq));
  if (ctx.out.json) {
    ctx.out.result(letter, [], []);
    return EXIT.ok;
  }
  const { headers, data, ...fields } = letter;
  for (const [key, value] of Object.entries(fields)) ctx.out.text(`${key.padEnd(12)} ${value ?? ''}`);
  ctx.out.text('headers:');
  for (const [key, values] of Object.entries(headers)) ctx.out.text(`  ${key}: ${values.join(', ')}`);
  ctx.out.text('data:');
  let body = data;
  try {
    body = JSON.stringify(JSON.parse(data), null, 2);
  } catch {
    // Not JSON (that may be why it is here): shown as stored.
  }
  ctx.out.text(body);
  return EXIT.ok;
}

type RedriveOutcome = RedriveReply['outcome'] | 'would redrive' | 'no consumer running';

/**
 * Hands a letter to a running instance of the consumer that set it aside, which applies it through its inbox
 * (so an event applied meanwhile is not applied again); removed from the stream once applied or found applied.
 */
async function redriveOne(
  broker: Broker,
  letter: DeadLetter,
): Promise<{ outcome: RedriveOutcome; error?: string }> {
  const h = natsHeaders();
  for (const [key, values] of Object.entries(letter.headers)) for (const v of values) h.append(key, v);
  let reply: RedriveReply;
  try {
    const answer = await broker.nc.request(redriveSubject(letter.consumer), letter.data, {
      headers: h,
      timeout: 10_000,
    });
    reply = answer.json<RedriveReply>();
  } catch (error) {
    return { outcome: 'no consumer running', error: (error as Error).message };
  }
  if (reply.outcome === 'failed') return { outcome: 'failed', error: reply.error };
  await broker.jsm.streams.deleteMessage(DEAD_LETTERS_STREAM, letter.seq);
  return { outcome: reply.outcome };
}

export async function redriveCommand(
  ctx: CommandContext,
  seqs: number[],
  flags: Selection & { dryRun?: boolean },
): Promise<number> {
  const results = await withBroker(ctx.natsUrl, async (broker) => {
    const letters = await select(broker, seqs, flags);
    const out: {
      seq: number;
      consumer: string;
      eventId: string | null;
      outcome: RedriveOutcome;
      error?: string;
    }[] = [];
    for (const letter of letters) {
      const base = { seq: letter.seq, consumer: letter.consumer, eventId: letter.eventId };
      out.push({
        ...base,
        ...(flags.dryRun ? { outcome: 'would redrive' as const } : await redriveOne(broker, letter)),
      });
    }
    return out;
  });
  if (ctx.out.json) for (const r of results) ctx.out.record(r);
  else if (results.length === 0) ctx.out.note('no dead letters');
  else
    ctx.out.table(
      [
        { header: 'SEQ', value: (r) => r.seq, align: 'right' },
        { header: 'CONSUMER', value: (r) => r.consumer },
        { header: 'EVENT', value: (r) => r.eventId ?? '(undecodable)' },
        { header: 'OUTCOME', value: (r) => r.outcome },
        { header: 'ERROR', value: (r) => r.error },
      ] satisfies Column<(typeof results)[number]>[],
      results,
    );
  const failed = results.some((r) => r.outcome === 'failed' || r.outcome === 'no consumer running');
  return failed ? EXIT.failure : EXIT.ok;
}

export async function discardCommand(
  ctx: CommandContext,
  seqs: number[],
  flags: Selection & { yes?: boolean },
): Promise<number> {
  const discarded = await withBroker(ctx.natsUrl, async (broker) => {
    const letters = await select(broker, seqs, flags);
    if (letters.length === 0) return [];
    await confirm(
      ctx.io,
      `Discard ${letters.length} dead letter(s) (${letters.map((l) => l.seq).join(', ')})? Their events are lost for good.`,
      flags.yes,
    );
    for (const letter of letters) await broker.jsm.streams.deleteMessage(DEAD_LETTERS_STREAM, letter.seq);
    return letters.map((l) => l.seq);
  });
  if (ctx.out.json) ctx.out.record({ discarded });
  else ctx.out.note(discarded.length === 0 ? 'no dead letters' : `discarded ${discarded.join(', ')}`);
  return EXIT.ok;
}

const collectSeq = (value: string, previous: number[] = []) => [...previous, parseSeq(value)];

export function registerDeadLetters(program: Command, run: Runner): void {
  const group = program
    .command('dead-letters')
    .description(
      `events a consumer could never apply (stream ${DEAD_LETTERS_STREAM}): list, show, redrive, discard`,
    )
    .addHelpText(
      'after',
      '\nExamples:\n  invctl dead-letters list --service inventory\n  invctl dead-letters show 12\n' +
        '  invctl dead-letters redrive 12 13 --dry-run\n  invctl dead-letters redrive --all\n' +
        '  invctl dead-letters discard 12 --yes',
    );
  const service = [
    '--service <name>',
    'only the dead letters of this service (inventory, transfer)',
  ] as const;
  group
    .command('list')
    .description('every dead letter, oldest first, with its subject, reason, error and delivery count')
    .option(...service)
    .action((flags: Selection, cmd: Command) => run(cmd, (ctx) => listCommand(ctx, flags)));
  group
    .command('show <seq>')
    .description('one dead letter with its headers and body')
    .action((seq: string, _flags: unknown, cmd: Command) =>
      run(cmd, (ctx) => showCommand(ctx, parseSeq(seq))),
    );
  group
    .command('redrive [seqs...]')
    .description(
      'hand dead letters back to a running instance of their consumer, which applies them through its inbox ' +
        '(at most once); each one applied (or found applied) is removed',
    )
    .option(...service)
    .option('--all', 'every dead letter (of --service)')
    .option('--dry-run', 'list what would be redriven, change nothing')
    .action((seqs: string[], flags: Selection & { dryRun?: boolean }, cmd: Command) =>
      run(cmd, (ctx) =>
        redriveCommand(
          ctx,
          seqs.reduce<number[]>((a, s) => collectSeq(s, a), []),
          flags,
        ),
      ),
    );
  group
    .command('discard [seqs...]')
    .description('delete dead letters for good')
    .option(...service)
    .option('--all', 'every dead letter (of --service)')
    .option('-y, --yes', 'do not ask for confirmation')
    .action((seqs: string[], flags: Selection & { yes?: boolean }, cmd: Command) =>
      run(cmd, (ctx) =>
        discardCommand(
          ctx,
          seqs.reduce<number[]>((a, s) => collectSeq(s, a), []),
          flags,
        ),
      ),
    );
}
