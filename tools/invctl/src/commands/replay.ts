import { EVENTS_STREAM, subjectMatches } from '@inv/contracts';
import { type PubAck, RetentionPolicy, StorageType, type StreamInfo } from '@nats-io/jetstream';
import { type MsgHdrs, nanos, headers as newHeaders } from '@nats-io/nats-core';
import type { Command } from 'commander';
import type { CommandContext, Runner } from '../lib/context.js';
import { CliError, EXIT, UsageError } from '../lib/errors.js';
import { API_ERRORS, type Broker, isApiError, withBroker } from '../lib/nats.js';
import { parsePositive } from '../lib/parse.js';
import { startProgress } from '../lib/progress.js';
import { openReader, type Reader, type StreamMessage } from '../lib/reader.js';
import { addSelectionOptions, type SelectionFlags, selectionOf } from '../lib/selection-options.js';
import { streamingTable } from '../lib/table.js';
import {
  isEventsSubject,
  parseTargetSubject,
  REPLAY_HEADERS,
  type ReplayRun,
  replayedUpTo,
  replayMsgId,
  replayRun,
  replayRunHeaders,
  type TargetSubject,
  targetFromStreamSubjects,
  targetKey,
  targetPattern,
  targetSubjectOf,
} from '../replay/plan.js';
import { InFlightWindow, pacer } from '../replay/window.js';

export interface ReplayFlags extends SelectionFlags {
  toSubject?: string;
  toStream?: string;
  createStream?: boolean;
  dryRun?: boolean;
  force?: boolean;
  resume: boolean;
  window: number;
  rate?: number;
}

interface Target {
  /** The target stream's name and subjects; `exists` is false only in a dry run that would create it. */
  stream: { name: string; subjects: string[]; exists: boolean };
  subject: TargetSubject;
  key: string;
}

export interface ReplaySummary {
  sourceStream: string;
  targetStream: string;
  targetSubject: string;
  dryRun: boolean;
  /** The previous replay to this target had reached this source sequence; the run started after it. */
  resumedAfter: number | null;
  /** Messages read from the source and handed to the target. */
  selected: number;
  /** Stored by the target as new. */
  published: number;
  /** Dropped by the target as repeats of an earlier replay (same message id, within its duplicate window). */
  duplicates: number;
  firstSeq: number | null;
  lastSeq: number | null;
  interrupted: boolean;
  error: { seq: number; message: string } | null;
}

const DEFAULT_DUPLICATE_WINDOW_MS = 10 * 60_000;

async function resolveTarget(broker: Broker, flags: ReplayFlags): Promise<Target> {
  const spec = flags.toSubject === undefined ? null : parseTargetSubject(flags.toSubject);
  if (flags.toSubject !== undefined && !spec) {
    throw new UsageError(
      '--to-subject must be a subject (replay.events) or a prefix ending in .> (replay.>)',
    );
  }
  let streamName = flags.toStream;
  if (!streamName) {
    if (!spec) throw new UsageError('give --to-subject and/or --to-stream');
    streamName = await broker.jsm.streams.find(targetPattern(spec)).catch(() => {
      throw new CliError(
        `no stream captures ${targetPattern(spec)}; name one with --to-stream (and --create-stream)`,
      );
    });
  }
  const stream = await targetStream(broker, streamName, spec, flags);
  const subject = spec ?? targetFromStreamSubjects(stream.subjects);
  if (!subject) {
    throw new UsageError(`stream ${streamName} has several subjects or a wildcard inside; give --to-subject`);
  }
  return { stream, subject, key: targetKey(streamName, subject) };
}

async function targetStream(
  broker: Broker,
  name: string,
  spec: TargetSubject | null,
  flags: ReplayFlags,
): Promise<Target['stream']> {
  const described = (info: StreamInfo) => ({ name, subjects: info.config.subjects ?? [], exists: true });
  try {
    return described(await broker.jsm.streams.info(name));
  } catch (error) {
    if (!isApiError(error, API_ERRORS.streamNotFound)) throw error;
  }
  if (!flags.createStream) throw new CliError(`stream ${name} not found (add --create-stream to create it)`);
  if (!spec) throw new UsageError("--create-stream needs --to-subject for the new stream's subjects");
  // A dry run changes nothing, not even the target it would create.
  if (flags.dryRun) return { name, subjects: [targetPattern(spec)], exists: false };
  const created = await broker.jsm.streams.add({
    name,
    subjects: [targetPattern(spec)],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    duplicate_window: nanos(DEFAULT_DUPLICATE_WINDOW_MS),
  });
  return described(created);
}

/** Replaying into the domain stream would hand every service each event a second time. */
function refuseUnsafeTarget(flags: ReplayFlags, target: Target): void {
  if (flags.force) return;
  const name = target.stream.name;
  if (name === EVENTS_STREAM || name === flags.stream) {
    throw new UsageError(
      `refusing to replay into ${name}: every consumer of it would get these events again. ` +
        'Replay into a stream of its own (--to-stream), or pass --force if that is really meant.',
    );
  }
  if (target.subject.kind === 'subject' && isEventsSubject(target.subject.subject)) {
    throw new UsageError(
      `refusing to publish onto ${target.subject.subject}, an ${EVENTS_STREAM} subject; pass --force`,
    );
  }
}

async function lastReplayed(broker: Broker, target: Target, run: ReplayRun): Promise<number | null> {
  if (!target.stream.exists) return null;
  const last = await broker.jsm.streams.getMessage(target.stream.name, {
    last_by_subj: targetPattern(target.subject),
  });
  return last ? replayedUpTo(last.header, run) : null;
}

function replayHeaders(message: StreamMessage, run: ReplayRun): MsgHdrs {
  const h = newHeaders();
  for (const [name, values] of message.headers ?? []) {
    // Nats-* headers are the server's instructions (message id, expectations); the replay sets its own.
    if (name.toLowerCase().startsWith('nats-')) continue;
    for (const value of values) h.append(name, value);
  }
  const originalId = message.headers?.get('Nats-Msg-Id');
  if (originalId) h.set(REPLAY_HEADERS.originalMsgId, originalId);
  for (const [name, value] of replayRunHeaders(run, message.seq, message.subject)) h.set(name, value);
  return h;
}

export async function replayCommand(ctx: CommandContext, flags: ReplayFlags): Promise<number> {
  const selection = selectionOf(flags);
  if (flags.toSubject === undefined && flags.toStream === undefined) {
    throw new UsageError('give --to-subject and/or --to-stream');
  }
  const summary = await withBroker(ctx.natsUrl, async (broker) => {
    const target = await resolveTarget(broker, flags);
    refuseUnsafeTarget(flags, target);
    const run = replayRun(flags.stream, target.key, selection.filters);
    const resumedAfter = flags.resume ? await lastReplayed(broker, target, run) : null;
    const reader = await openReader(broker, flags.stream, selection, {
      signal: ctx.io.signal,
      minStart: resumedAfter === null ? undefined : resumedAfter + 1,
    });
    const result: ReplaySummary = {
      sourceStream: flags.stream,
      targetStream: target.stream.name,
      targetSubject: targetPattern(target.subject),
      dryRun: flags.dryRun === true,
      resumedAfter,
      selected: 0,
      published: 0,
      duplicates: 0,
      firstSeq: null,
      lastSeq: null,
      interrupted: false,
      error: null,
    };
    if (!target.stream.exists && !ctx.out.json) {
      ctx.out.note(
        `dry run: would create stream ${target.stream.name} capturing ${target.stream.subjects[0]}`,
      );
    }
    if (resumedAfter !== null && !ctx.out.json) {
      ctx.out.note(
        `resuming: ${result.targetStream} already holds this replay up to source seq ${resumedAfter}`,
      );
    }
    if (flags.dryRun) await dryRun(ctx, flags, target, reader.messages, result);
    else await publishAll(ctx, broker, { flags, target, run }, reader, result);
    result.interrupted = ctx.io.signal?.aborted === true;
    return result;
  });
  report(ctx, summary);
  // An interrupted run is incomplete: scripts must not take it for done.
  return summary.error || summary.interrupted ? EXIT.failure : EXIT.ok;
}

async function dryRun(
  ctx: CommandContext,
  flags: ReplayFlags,
  target: Target,
  messages: AsyncIterable<StreamMessage>,
  result: ReplaySummary,
): Promise<void> {
  const table = streamingTable([
    { header: 'SEQ', width: 9, align: 'right' },
    { header: 'SUBJECT', width: 64 },
    { header: 'TARGET SUBJECT', width: 72 },
    { header: 'MSG ID', width: 0 },
  ]);
  if (!ctx.out.json) ctx.io.stdout.write(table.header);
  for await (const message of messages) {
    const planned = {
      seq: message.seq,
      subject: message.subject,
      targetSubject: targetSubjectOf(target.subject, message.subject),
      msgId: replayMsgId(flags.stream, message.seq, target.key),
    };
    if (ctx.out.json) ctx.out.record({ plan: planned });
    else
      ctx.io.stdout.write(
        table.line([String(planned.seq), planned.subject, planned.targetSubject, planned.msgId]),
      );
    result.selected++;
    result.firstSeq ??= message.seq;
    result.lastSeq = message.seq;
  }
}

async function publishAll(
  ctx: CommandContext,
  broker: Broker,
  { flags, target, run }: { flags: ReplayFlags; target: Target; run: ReplayRun },
  reader: Reader,
  result: ReplaySummary,
): Promise<void> {
  const { name: streamName, subjects: captured } = target.stream;
  const window = new InFlightWindow<number>(flags.window);
  const pace = pacer(flags.rate);
  const progress = startProgress(ctx.io, {
    json: ctx.out.json,
    total: reader.estimatedTotal,
    label: 'replayed',
  });
  let acked = 0;
  let refused: ReplaySummary['error'] = null;
  try {
    for await (const message of reader.messages) {
      const subject = targetSubjectOf(target.subject, message.subject);
      if (!captured.some((filter) => subjectMatches(filter, subject))) {
        refused = { seq: message.seq, message: `${subject} is not a subject of ${streamName}` };
        break;
      }
      await pace();
      const started = await window.submit(
        message.seq,
        () =>
          broker.js.publish(subject, message.data, {
            msgID: replayMsgId(flags.stream, message.seq, target.key),
            headers: replayHeaders(message, run),
            expect: { streamName },
          }),
        (ack: PubAck) => {
          if (ack.duplicate) result.duplicates++;
          else result.published++;
          progress.update(++acked);
        },
      );
      if (!started) break;
      result.selected++;
      result.firstSeq ??= message.seq;
      result.lastSeq = message.seq;
    }
  } finally {
    await window.drain();
    progress.stop();
  }
  const failed = window.failure;
  result.error = failed ? { seq: failed.key, message: failed.error.message } : refused;
}

function report(ctx: CommandContext, s: ReplaySummary): void {
  if (ctx.out.json) {
    ctx.out.record({ summary: s });
  } else {
    const range = s.firstSeq === null ? 'nothing selected' : `source seq ${s.firstSeq}..${s.lastSeq}`;
    const verb = s.dryRun ? 'would be published' : `published, ${s.duplicates} already there (duplicates)`;
    const count = s.dryRun ? s.selected : s.published;
    ctx.out.note(
      `${count} message(s) ${verb}: ${s.sourceStream} → ${s.targetStream} (${s.targetSubject}), ${range}`,
    );
    if (s.interrupted) ctx.out.note('interrupted: run the same command again to continue where it stopped');
  }
  if (s.error) {
    ctx.out.note(
      `invctl: replay stopped at source seq ${s.error.seq}: ${s.error.message}. Fix the cause and run again ` +
        `with --from-seq ${s.error.seq} --no-resume (repeats within the target's duplicate window are dropped).`,
    );
  }
}

export function registerReplay(program: Command, run: Runner): void {
  addSelectionOptions(
    program
      .command('replay')
      .description(
        'republish a selected range to a target subject or stream, idempotently (for a consumer that must reprocess)',
      ),
  )
    .option(
      '--to-subject <subject>',
      'target subject, or a prefix ending in .> (replay.> publishes to replay.<original subject>)',
    )
    .option(
      '--to-stream <name>',
      "target stream (its single subject filter is the target when --to-subject isn't given)",
    )
    .option('--create-stream', 'create --to-stream (capturing --to-subject) when it does not exist')
    .option('--dry-run', 'show what would be published, publish nothing')
    .option('--force', `allow replaying into ${EVENTS_STREAM} or the source stream itself`)
    .option('--no-resume', "don't skip what an earlier run of this replay already stored in the target")
    .option('--window <n>', 'publishes in flight at once', parsePositive, 256)
    .option(
      '--rate <n>',
      'at most this many messages per second (spare a live consumer of the target)',
      parsePositive,
    )
    .addHelpText(
      'after',
      [
        '',
        'Every message is published with Nats-Msg-Id replay:<source stream>:<seq>:<target stream>:<target subject>',
        'and Replay-Source-* headers. A re-run (after a crash or Ctrl-C) resumes after the last source sequence the',
        'target holds, and the target stream drops any repeat within its duplicate window: each message lands once.',
        '',
        'Examples:',
        '  invctl replay --channel warehouse:w1 --since 2h --to-stream REPLAY --to-subject "replay.>" --create-stream --dry-run',
        '  invctl replay --from-seq 1 --to-seq 50000 --to-stream REPLAY',
      ].join('\n'),
    )
    .action((flags: ReplayFlags, cmd: Command) => run(cmd, (ctx) => replayCommand(ctx, flags)));
}
