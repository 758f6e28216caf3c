import { EVENTS_STREAM } from '@inv/contracts';
import { nextStoredSeq } from '@inv/platform';
import {
  AckPolicy,
  type ConsumerMessages,
  DeliverPolicy,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/nats-core';
import type { ReadRange, StreamReader } from '../../app/ports.js';

/** Messages pulled per request: large batches make a 10,000-event replay a handful of round trips. */
const BATCH = 500;
/** A replay consumer left behind (process crash) disappears after this long. */
const INACTIVE_THRESHOLD_MS = 30_000;
const MAX_ATTEMPTS = 5;
/** How long a read waits for the replica its consumer landed on to catch up with the stream, and how often it looks. */
const CATCH_UP_MS = 15_000;
const CATCH_UP_PAUSE_MS = 100;
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Reads one filter of the stream from a sequence to a known end with a short-lived ephemeral consumer (memory,
 * one replica, no acks). Its creation tells how much is pending, so an empty range costs one request and no
 * waiting. Gaps (a delivery sequence that skips, a consumer lost with a server) are repaired by recreating the
 * consumer after the last message seen, as ordered consumers do.
 *
 * In a cluster the consumer lands on any replica of the stream, and a replica that is catching up (one just back
 * from a crash is seconds behind) reports "nothing pending" for messages it has not received yet. So there,
 * "nothing pending" before `toSeq` is only believed once the stream leader confirms that nothing on the filter
 * follows up to `toSeq`; otherwise the read goes on from the same place once the replicas have caught up.
 */
class FilterCursor {
  private messages: ConsumerMessages | null = null;
  private iterator: AsyncIterator<JsMsg> | null = null;
  private consumerName: string | null = null;
  private expectedDelivery = 1;
  private lastSeq: number;
  private done = false;
  /** The consumer has nothing more: the end, unless a replica behind the stream said so. */
  private drained = false;
  /** Whether the consumer's server is one replica of several (ConsumerInfo names a cluster only then). */
  private clustered = false;
  private catchUpDeadline = 0;

  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly filter: string,
    fromSeq: number,
    private readonly toSeq: number,
  ) {
    this.lastSeq = fromSeq - 1;
    this.done = fromSeq > toSeq;
  }

  async next(): Promise<JsMsg | null> {
    for (let attempt = 1; ; attempt++) {
      if (this.done) return null;
      try {
        if (this.drained && (await this.endConfirmed())) this.finish();
        if (this.done) return null;
        if (!this.iterator) await this.open();
        if (this.done) return null;
        if (this.iterator) {
          const result = await this.iterator.next();
          if (!result.done) {
            const message = result.value;
            if (message.info.deliverySequence === this.expectedDelivery) return this.accept(message);
          }
        } else if (this.drained) {
          // Drained on opening: confirmed (or waited for) on the next turn, which is not a failure.
          attempt--;
          continue;
        }
      } catch (error) {
        if (attempt >= MAX_ATTEMPTS) throw error;
      }
      // A gap, or the consumer went away: start again after the last message seen.
      if (attempt >= MAX_ATTEMPTS) throw new Error(`reading ${this.filter} from the stream keeps failing`);
      this.dispose();
    }
  }

  private accept(message: JsMsg): JsMsg | null {
    this.expectedDelivery++;
    if (message.seq > this.toSeq) {
      this.finish();
      return null;
    }
    this.lastSeq = message.seq;
    if (message.seq === this.toSeq) this.finish();
    else if (message.info.pending === 0) this.drain();
    return message;
  }

  /** The consumer has nothing more before `toSeq`: stop it; the next call decides whether that is the end. */
  private drain(): void {
    this.drained = true;
    this.dispose();
  }

  /**
   * Whether nothing on the filter follows `lastSeq` up to `toSeq`. A single server's word is final; in a cluster
   * the stream leader's decides, and while it still has a message there the replica is behind: wait a little and
   * read on.
   */
  private async endConfirmed(): Promise<boolean> {
    this.drained = false;
    if (!this.clustered) return true;
    const next = await nextStoredSeq(this.jsm, EVENTS_STREAM, this.lastSeq + 1, this.filter);
    if (next === null || next > this.toSeq) return true;
    this.catchUpDeadline ||= Date.now() + CATCH_UP_MS;
    if (Date.now() > this.catchUpDeadline) {
      throw new Error(`the replica reading ${this.filter} stays behind the stream at ${this.lastSeq}`);
    }
    await pause(CATCH_UP_PAUSE_MS);
    return false;
  }

  private async open(): Promise<void> {
    const info = await this.jsm.consumers.add(EVENTS_STREAM, {
      ...(this.filter === '>' ? {} : { filter_subject: this.filter }),
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: this.lastSeq + 1,
      ack_policy: AckPolicy.None,
      mem_storage: true,
      num_replicas: 1,
      inactive_threshold: nanos(INACTIVE_THRESHOLD_MS),
    });
    this.consumerName = info.name;
    this.clustered = info.cluster !== undefined;
    this.expectedDelivery = 1;
    if (info.num_pending === 0) {
      this.drain();
      return;
    }
    const consumer = this.js.consumers.getConsumerFromInfo(info);
    const messages = await consumer.consume({
      max_messages: Math.min(BATCH, Math.max(1, this.toSeq - this.lastSeq)),
      expires: 5_000,
      abort_on_missing_resource: true,
    });
    this.messages = messages;
    this.iterator = messages[Symbol.asyncIterator]();
    this.watch(messages).catch(() => undefined);
  }

  /** Missed heartbeats mean the consumer is gone without a word: end the iterator so `next` recreates it. */
  private async watch(messages: ConsumerMessages): Promise<void> {
    for await (const status of messages.status()) {
      if (status.type === 'heartbeats_missed' && status.count >= 2) messages.stop();
    }
  }

  private finish(): void {
    this.done = true;
    this.dispose();
  }

  dispose(): void {
    this.messages?.stop();
    this.messages = null;
    this.iterator = null;
    if (this.consumerName) {
      this.jsm.consumers.delete(EVENTS_STREAM, this.consumerName).catch(() => undefined);
      this.consumerName = null;
    }
  }
}

/**
 * Reads a range of the EVENTS stream on a channel's filters (one consumer each: NATS 2.9 has one filter per
 * consumer) and merges them by stream sequence.
 */
export function natsStreamReader(js: JetStreamClient, jsm: JetStreamManager): StreamReader {
  return {
    async read({ filters, fromSeq, toSeq, onMessage, stopped }: ReadRange): Promise<void> {
      if (fromSeq > toSeq) return;
      const cursors = filters.map((filter) => new FilterCursor(js, jsm, filter, fromSeq, toSeq));
      try {
        const heads = await Promise.all(cursors.map((cursor) => cursor.next()));
        let last = fromSeq - 1;
        for (;;) {
          if (stopped()) return;
          let pick = -1;
          for (let i = 0; i < heads.length; i++) {
            const head = heads[i];
            if (head && (pick < 0 || head.seq < heads[pick]!.seq)) pick = i;
          }
          if (pick < 0) return;
          const message = heads[pick]!;
          // Filters of one channel do not overlap, but a duplicate would only be skipped.
          if (message.seq > last) {
            last = message.seq;
            const pending = onMessage({ seq: message.seq, subject: message.subject, data: message.data });
            if (pending) await pending;
          }
          heads[pick] = await cursors[pick]!.next();
        }
      } finally {
        for (const cursor of cursors) cursor.dispose();
      }
    },
  };
}
