import { nextStoredSeq } from '@inv/platform';
import { type Consumer, DeliverPolicy, type JsMsg } from '@nats-io/jetstream';
import type { MsgHdrs } from '@nats-io/nats-core';
import { mergeBySeq } from './merge.js';
import type { Broker } from './nats.js';
import { orNotFound } from './nats.js';
import { resolveRange, type Selection, type SeqRange, selectsSubject } from './selection.js';

/** A stored message as the commands see it, detached from the consumer that delivered it. */
export interface StreamMessage {
  seq: number;
  subject: string;
  time: Date;
  headers: MsgHdrs | undefined;
  data: Uint8Array;
}

export interface ReadOptions {
  /** Keep reading new messages after the range (live tail) until `signal` aborts. */
  follow?: boolean;
  signal?: AbortSignal;
  /** Never read below this sequence (a replay resuming after what its target already holds). */
  minStart?: number;
}

export interface Reader {
  /** The sequences read; null when the stream holds nothing in the selection's range. */
  range: SeqRange | null;
  /** Upper bound of the messages the selection holds now (for a progress bar). */
  estimatedTotal: number;
  messages: AsyncIterable<StreamMessage>;
}

const BATCH = 512;
/** How long a read waits for a replica catching up with the stream, and each pull of the first message. */
const CATCH_UP_MS = 15_000;
const FIRST_WAIT_MS = 5_000;

/**
 * Reads a selection in stream order with ordered consumers: one per subject filter, merged by stream sequence,
 * because NATS 2.9 gives a consumer a single filter. The server filters, so reading one warehouse's channel
 * does not pull the whole stream over the network. A live tail over several filters continues with one
 * consumer on the whole stream from the end of the history, filtered here: that keeps the tail in stream order
 * without a merge that would have to wait on every filter, and costs only the live traffic.
 */
export async function openReader(
  broker: Broker,
  stream: string,
  selection: Selection,
  options: ReadOptions = {},
): Promise<Reader> {
  const info = await orNotFound(broker.jsm.streams.info(stream), `stream ${stream}`);
  const lastSeq = info.state.last_seq;
  const firstSeq = info.state.messages === 0 ? lastSeq + 1 : info.state.first_seq;
  const timeStart = selection.since
    ? await firstSeqAtOrAfter(broker, stream, selection.since, {
        lastSeq,
        lastTime: new Date(info.state.last_ts),
      })
    : undefined;
  const range = resolveRange(
    { fromSeq: Math.max(selection.fromSeq ?? 1, options.minStart ?? 1), toSeq: selection.toSeq },
    { firstSeq, lastSeq },
    { follow: options.follow, timeStart },
  );
  if (!range) return { range: null, estimatedTotal: 0, messages: empty() };

  const historyEnd = Math.min(range.end, lastSeq);
  const single = selection.filters.length === 1;
  const sources: FilterSource[] = [];
  if (range.start <= historyEnd || (single && options.follow)) {
    for (const filter of selection.filters) {
      sources.push(await openFilter(broker, stream, filter, range.start));
    }
  }
  const estimatedTotal = Math.min(
    sources.reduce((sum, s) => sum + s.pending, 0),
    Math.max(0, historyEnd - range.start + 1),
    selection.limit ?? Number.POSITIVE_INFINITY,
  );

  async function* all(): AsyncGenerator<StreamMessage> {
    if (single && options.follow) {
      yield* drain(sources[0]!, range!.end, true, options.signal);
      return;
    }
    yield* mergeBySeq(sources.map((s) => drain(s, historyEnd, false, options.signal)));
    if (options.follow && !options.signal?.aborted) {
      const live = await openFilter(broker, stream, '>', Math.max(range!.start, lastSeq + 1));
      for await (const message of drain(live, range!.end, true, options.signal)) {
        if (selectsSubject(selection, message.subject)) yield message;
      }
    }
  }
  return { range, estimatedTotal, messages: bounded(all(), selection) };
}

interface FilterSource {
  consumer: Consumer;
  /** Messages matching the filter from the start sequence on, when the consumer was created. */
  pending: number;
  startSeq: number;
  /**
   * Whether no message on the filter follows `seq` up to `end`. The consumer's "nothing pending" is not enough in
   * a cluster: it lands on any replica, and one catching up reports nothing pending for what it has not received.
   */
  nothingAfter(seq: number, end: number): Promise<boolean>;
}

async function openFilter(
  broker: Broker,
  stream: string,
  filter: string,
  startSeq: number,
): Promise<FilterSource> {
  const consumer = await broker.js.consumers.get(stream, {
    ...(filter === '>' ? {} : { filter_subjects: filter }),
    deliver_policy: DeliverPolicy.StartSequence,
    opt_start_seq: startSeq,
  });
  const info = await consumer.info(true);
  const nothingAfter = async (seq: number, end: number) => {
    if (info.cluster === undefined) return true;
    const next = await nextStoredSeq(broker.jsm, stream, seq + 1, filter);
    return next === null || next > end;
  };
  return { consumer, pending: info.num_pending, startSeq, nothingAfter };
}

async function* drain(
  source: FilterSource,
  end: number,
  follow: boolean,
  signal: AbortSignal | undefined,
): AsyncGenerator<StreamMessage> {
  const ended = !follow && source.pending === 0 && (await source.nothingAfter(source.startSeq - 1, end));
  if (ended || signal?.aborted) {
    await source.consumer.delete().catch(() => undefined);
    return;
  }
  // Short pulls: after a server restart nats.js re-checks the consumer with a backoff of up to `expires`.
  const messages = await source.consumer.consume({ max_messages: BATCH, expires: 5_000 });
  const stop = () => void messages.close();
  signal?.addEventListener('abort', stop, { once: true });
  try {
    for await (const msg of messages) {
      if (msg.seq > end) return;
      yield detach(msg);
      if (msg.seq >= end) return;
      // Not the end while a replica catching up holds the rest back: the ordered consumer keeps pulling.
      if (!follow && msg.info.pending === 0 && (await source.nothingAfter(msg.seq, end))) return;
    }
  } finally {
    signal?.removeEventListener('abort', stop);
    await messages.close().catch(() => undefined);
    await source.consumer.delete().catch(() => undefined);
  }
}

function detach(msg: JsMsg): StreamMessage {
  return { seq: msg.seq, subject: msg.subject, time: msg.time, headers: msg.headers, data: msg.data };
}

/** Applies `--until` (stream times only grow with the sequence, so the first later message ends it) and `--limit`. */
async function* bounded(
  messages: AsyncIterable<StreamMessage>,
  selection: Selection,
): AsyncGenerator<StreamMessage> {
  let count = 0;
  if (selection.limit === 0) return;
  for await (const message of messages) {
    if (selection.until && message.time > selection.until) return;
    yield message;
    if (++count === selection.limit) return;
  }
}

async function* empty(): AsyncGenerator<StreamMessage> {}

/**
 * The first sequence stored at or after `time`; one past the last when there is none. The consumer's "nothing
 * pending" is believed only when the stream's last message (as the leader reported it) is older than `time`: on
 * a replica catching up it can mean "not received yet", and then the first message is awaited instead.
 */
async function firstSeqAtOrAfter(
  broker: Broker,
  stream: string,
  time: Date,
  end: { lastSeq: number; lastTime: Date },
): Promise<number> {
  if (end.lastTime < time) return end.lastSeq + 1;
  const consumer = await broker.js.consumers.get(stream, {
    deliver_policy: DeliverPolicy.StartTime,
    opt_start_time: time.toISOString(),
  });
  try {
    const info = await consumer.info(true);
    if (info.num_pending === 0 && info.cluster === undefined) return end.lastSeq + 1;
    for (let waited = 0; waited < CATCH_UP_MS; waited += FIRST_WAIT_MS) {
      const first = await consumer.next({ expires: FIRST_WAIT_MS });
      if (first) return first.seq;
    }
    throw new Error(
      `stream ${stream}: no message at or after ${time.toISOString()} arrived from its replica`,
    );
  } finally {
    await consumer.delete().catch(() => undefined);
  }
}
