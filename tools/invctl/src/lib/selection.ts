import { channelFilters, parseChannel, subjectMatches } from '@inv/contracts';
import { UsageError } from './errors.js';

/** Which messages of a stream a command works on, as the operator gave it. */
export interface SelectionOptions {
  subject?: string;
  channel?: string;
  fromSeq?: number;
  toSeq?: number;
  since?: Date;
  until?: Date;
  limit?: number;
}

export interface Selection {
  /** Subject filters, none overlapping; `>` is the whole stream. */
  filters: string[];
  /** How the operator named it, for messages. */
  label: string;
  fromSeq?: number;
  toSeq?: number;
  since?: Date;
  until?: Date;
  limit?: number;
}

/** Turns `--subject` or `--channel` (the gateway's channel grammar) into subject filters and checks the range. */
export function buildSelection(options: SelectionOptions): Selection {
  if (options.subject !== undefined && options.channel !== undefined) {
    throw new UsageError('give --subject or --channel, not both');
  }
  let filters = ['>'];
  let label = 'whole stream';
  if (options.channel !== undefined) {
    const parsed = parseChannel(options.channel);
    if (!parsed.ok) throw new UsageError(`--channel: ${parsed.message}`);
    filters = channelFilters(parsed.channel);
    label = `channel ${options.channel}`;
  } else if (options.subject !== undefined) {
    filters = [options.subject];
    label = `subject ${options.subject}`;
  }
  if (options.fromSeq !== undefined && options.toSeq !== undefined && options.fromSeq > options.toSeq) {
    throw new UsageError('--from-seq is after --to-seq');
  }
  if (options.since && options.until && options.since > options.until) {
    throw new UsageError('--since is after --until');
  }
  return {
    filters,
    label,
    fromSeq: options.fromSeq,
    toSeq: options.toSeq,
    since: options.since,
    until: options.until,
    limit: options.limit,
  };
}

export function selectsSubject(selection: Pick<Selection, 'filters'>, subject: string): boolean {
  return selection.filters.some((filter) => subjectMatches(filter, subject));
}

/** The inclusive sequence range to read; `end` is Infinity for a live tail. */
export interface SeqRange {
  start: number;
  end: number;
}

/**
 * Intersects the requested range with what the stream holds. `timeStart` is the first sequence stored at or
 * after `--since` (resolved against the stream). Null when nothing can match.
 */
export function resolveRange(
  selection: Pick<Selection, 'fromSeq' | 'toSeq'>,
  stream: { firstSeq: number; lastSeq: number },
  options: { follow?: boolean; timeStart?: number } = {},
): SeqRange | null {
  const start = Math.max(stream.firstSeq, selection.fromSeq ?? 1, options.timeStart ?? 1);
  const end = Math.min(
    selection.toSeq ?? Number.POSITIVE_INFINITY,
    options.follow ? Number.POSITIVE_INFINITY : stream.lastSeq,
  );
  return start <= end ? { start, end } : null;
}
