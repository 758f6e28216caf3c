import { EVENTS_SUBJECTS, subjectMatches } from '@inv/contracts';
import type { MsgHdrs } from '@nats-io/nats-core';

/** Where replayed messages go: under a prefix (`replay.>` → `replay.<original subject>`) or onto one subject. */
export type TargetSubject = { kind: 'prefix'; prefix: string } | { kind: 'subject'; subject: string };

export const REPLAY_HEADERS = {
  sourceStream: 'Replay-Source-Stream',
  sourceSeq: 'Replay-Source-Seq',
  sourceSubject: 'Replay-Source-Subject',
  target: 'Replay-Target',
  /** The selection's subject filters: a run over other subjects is another replay and does not resume this one. */
  filter: 'Replay-Filter',
  originalMsgId: 'Replay-Original-Msg-Id',
} as const;

/** What makes two runs the same replay: the source stream, the target and the subject filters selected. */
export interface ReplayRun {
  sourceStream: string;
  targetKey: string;
  filter: string;
}

export function replayRun(sourceStream: string, targetKey: string, filters: string[]): ReplayRun {
  return { sourceStream, targetKey, filter: filters.join(' ') };
}

/** The headers that let a later run find where this one got to. */
export function replayRunHeaders(run: ReplayRun, seq: number, subject: string): [string, string][] {
  return [
    [REPLAY_HEADERS.sourceStream, run.sourceStream],
    [REPLAY_HEADERS.sourceSeq, String(seq)],
    [REPLAY_HEADERS.sourceSubject, subject],
    [REPLAY_HEADERS.target, run.targetKey],
    [REPLAY_HEADERS.filter, run.filter],
  ];
}

/** `replay.>` is a prefix, anything without wildcards one subject. */
export function parseTargetSubject(spec: string): TargetSubject | null {
  const tokens = spec.split('.');
  if (tokens.some((t) => t.length === 0 || /\s/.test(t))) return null;
  if (
    tokens.length > 1 &&
    tokens.at(-1) === '>' &&
    !tokens.slice(0, -1).some((t) => t.includes('*') || t.includes('>'))
  ) {
    return { kind: 'prefix', prefix: tokens.slice(0, -1).join('.') };
  }
  if (tokens.some((t) => t.includes('*') || t.includes('>'))) return null;
  return { kind: 'subject', subject: spec };
}

/** The subject pattern of everything a replay publishes: what the target stream must capture. */
export function targetPattern(target: TargetSubject): string {
  return target.kind === 'prefix' ? `${target.prefix}.>` : target.subject;
}

export function targetSubjectOf(target: TargetSubject, sourceSubject: string): string {
  return target.kind === 'prefix' ? `${target.prefix}.${sourceSubject}` : target.subject;
}

/** A target stream with a single subject filter defines the target subject when `--to-subject` is not given. */
export function targetFromStreamSubjects(subjects: string[]): TargetSubject | null {
  return subjects.length === 1 ? parseTargetSubject(subjects[0]!) : null;
}

/** What identifies a replay target: the stream and the subject pattern in it. */
export function targetKey(stream: string, target: TargetSubject): string {
  return `${stream}:${targetPattern(target)}`;
}

/**
 * The `Nats-Msg-Id` of a replayed message: the same source message replayed to the same target always gets the
 * same id, so the target stream drops a repeat within its duplicate window.
 */
export function replayMsgId(sourceStream: string, seq: number, key: string): string {
  return `replay:${sourceStream}:${seq}:${key}`;
}

export function isEventsSubject(subject: string): boolean {
  return EVENTS_SUBJECTS.some((filter) => subjectMatches(filter, subject));
}

/**
 * The source sequence an earlier run of the same replay got to, read from the headers of the target's last
 * message on the target pattern; null when that message is not from such a run. Publishes go out in order on one
 * connection and are stored in that order, so everything the run selected up to that sequence is there.
 */
export function replayedUpTo(headers: MsgHdrs | undefined, run: ReplayRun): number | null {
  if (!headers) return null;
  const same =
    headers.get(REPLAY_HEADERS.sourceStream) === run.sourceStream &&
    headers.get(REPLAY_HEADERS.target) === run.targetKey &&
    headers.get(REPLAY_HEADERS.filter) === run.filter;
  if (!same) return null;
  const seq = Number(headers.get(REPLAY_HEADERS.sourceSeq));
  return Number.isSafeInteger(seq) && seq > 0 ? seq : null;
}
