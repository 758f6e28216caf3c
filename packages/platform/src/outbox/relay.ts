import { EVENTS_STREAM, EVENTS_STREAM_DEFAULTS } from '@inv/contracts';
import { type JetStreamManager, jetstreamManager } from '@nats-io/jetstream';
import { type NatsConnection, headers as natsHeaders } from '@nats-io/nats-core';
import pg from 'pg';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { StreamPublishError, StreamPublisher } from '../nats/stream-publisher.js';
import { backoffDelay } from '../retry.js';
import { MarkQueue, type Published } from './mark-queue.js';
import { promRelayMetrics, type RelayMetrics, type RelayPhase } from './relay-metrics.js';
import { OUTBOX_NOTIFY_CHANNEL } from './writer.js';

export interface OutboxRelayOptions {
  databaseUrl: string;
  nc: NatsConnection;
  logger: Logger;
  registry?: Registry;
  /** Where the relay's measurements go instead of `registry` (a relay thread forwards them to its process). */
  metrics?: RelayMetrics;
  /** Distinguishes this service's relay lock; one relay per database publishes at a time. */
  lockKey: number;
  batchSize?: number;
  /** Publishes in flight together (and rows marked per UPDATE); events of one aggregate never are. */
  maxInFlight?: number;
  pollIntervalMs?: number;
  publishTimeoutMs?: number;
  /** The stream's duplicate window; rows older than most of it are checked against the stream before retrying. */
  duplicateWindowMs?: number;
  /** Published rows are deleted after this long. */
  retentionMs?: number;
  /** How long an acked row may wait for rows acked after it, to be marked published by the same UPDATE. */
  markDelayMs?: number;
  /** Makes the streams again when no stream took a publish (the server lost them): see `streamRestorer`. */
  restoreStreams?: () => Promise<void>;
}

interface Row {
  id: string;
  event_id: string;
  event_type: string;
  subject: string;
  order_key: string;
  payload: string;
  created_at: Date;
  /** When the relay read it (ms since epoch, sub-millisecond), for the phase histogram. */
  readAt?: number;
}

const nowMs = () => performance.timeOrigin + performance.now();

/** What a service does with its relay, in its process (OutboxRelay) or on a thread of its own (RelayThread). */
export interface Relay {
  start(): void;
  /** Wakes the relay after a commit (or, through the database, the instance whose relay leads). */
  notify(): void;
  stop(): Promise<void>;
  readonly isLeader: boolean;
}

/**
 * Publishes the outbox to JetStream in order, with `Nats-Msg-Id` = event id so a retry after an uncertain
 * publish is dropped by the stream. Survives NATS and PostgreSQL outages by retrying with backoff; only the
 * instance holding the advisory lock publishes.
 */
export class OutboxRelay implements Relay {
  private readonly publisher: StreamPublisher;
  private jsm: JetStreamManager | null = null;
  private client: pg.Client | null = null;
  private leader = false;
  private stopping = false;
  private loop: Promise<void> | null = null;
  private wakeRequested = false;
  private wake: (() => void) | null = null;
  private lastPurge = 0;
  private readonly leaderWake = { inFlight: false, again: false };
  /** Per aggregate (`order_key`), its rows read and not yet published, in outbox order. */
  private readonly chains = new Map<string, Row[]>();
  /** Aggregates whose chain waits for a publisher. */
  private readonly waiting: string[] = [];
  private readonly publishers = new Set<Promise<void>>();
  /** Ids of the rows read and not yet marked published: reads skip them, so they never wait for publishing. */
  private readonly claimed = new Set<string>();
  private readonly marks: MarkQueue;
  /** Set by the first failed publish or mark: nothing more is published until the relay has settled. */
  private failure: unknown = null;
  private readonly o: Required<Omit<OutboxRelayOptions, 'registry' | 'metrics' | 'restoreStreams'>> &
    Pick<OutboxRelayOptions, 'restoreStreams'>;
  private readonly metrics?: RelayMetrics;

  constructor(options: OutboxRelayOptions) {
    this.o = {
      batchSize: 500,
      maxInFlight: 128,
      pollIntervalMs: 500,
      publishTimeoutMs: 5_000,
      duplicateWindowMs: EVENTS_STREAM_DEFAULTS.duplicateWindowMs,
      retentionMs: 7 * 24 * 3600_000,
      markDelayMs: 5,
      ...options,
      logger: options.logger.child({ component: 'outbox-relay' }),
    };
    this.publisher = new StreamPublisher(options.nc, this.o.publishTimeoutMs);
    this.marks = new MarkQueue(
      (published) => this.markPublished(published),
      this.o.maxInFlight,
      this.o.markDelayMs,
      (error) => this.fail(error),
    );
    this.metrics = options.metrics ?? (options.registry ? promRelayMetrics(options.registry) : undefined);
  }

  start(): void {
    this.loop ??= this.run();
  }

  /**
   * Wakes the relay now (after a commit in this process) instead of at the next poll; when another process's
   * relay is the leader, wakes that one through the database instead.
   */
  notify(): void {
    this.poke();
    if (!this.leader && !this.stopping) this.wakeLeader();
  }

  /** Wakes this relay's loop, or makes its next idle return at once. */
  private poke(): void {
    this.wakeRequested = true;
    this.wake?.();
  }

  /**
   * One NOTIFY at a time, however many commits ask for it: notifying transactions commit one after the other in
   * PostgreSQL, so one per commit would cap the writers; the leader reads everything pending when woken.
   */
  private wakeLeader(): void {
    const client = this.client;
    if (!client) return;
    if (this.leaderWake.inFlight) {
      this.leaderWake.again = true;
      return;
    }
    this.leaderWake.inFlight = true;
    client
      .query(`select pg_notify('${OUTBOX_NOTIFY_CHANNEL}', '')`)
      .catch(() => undefined) // the leader's poll picks the rows up anyway
      .finally(() => {
        this.leaderWake.inFlight = false;
        if (this.leaderWake.again) {
          this.leaderWake.again = false;
          if (!this.leader && !this.stopping) this.wakeLeader();
        }
      });
  }

  get isLeader(): boolean {
    return this.leader;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    this.notify();
    await this.loop;
    this.publisher.close();
    await this.disconnect();
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      try {
        if (this.failure) {
          failures++;
          const streamMissing = this.failure instanceof StreamPublishError && this.failure.noResponders;
          await this.settle();
          if (streamMissing) await this.restoreStreams();
          await this.idle(backoffDelay(failures, 100, 5_000), false);
          continue;
        }
        if (!(await this.ensureLeadership())) {
          await this.idle(this.o.pollIntervalMs * 2);
          continue;
        }
        const room = this.o.batchSize - this.claimed.size;
        this.wakeRequested = false;
        const rows = this.worthReading() ? await this.fetchPending(room) : [];
        if (this.failure) continue;
        this.dispatch(rows);
        if (room > 0 && rows.length === room) continue; // more are waiting
        if (this.claimed.size === 0) {
          failures = 0;
          await this.purgeOld();
        }
        // Woken by a commit, by a failure, or by marks that make room again.
        await this.idle(this.o.pollIntervalMs);
      } catch (error) {
        failures++;
        this.o.logger.warn({ err: error, failures }, 'outbox relay cycle failed; retrying');
        await this.settle();
        await this.disconnect();
        await this.idle(backoffDelay(failures, 100, 5_000), false);
      }
    }
    await this.settle();
  }

  private async idle(ms: number, wakeable = true): Promise<void> {
    if (this.stopping) return;
    if (wakeable && this.wakeRequested) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      const self = this;
      function done() {
        clearTimeout(timer);
        self.wake = null;
        resolve();
      }
      this.wake = wakeable ? done : () => this.stopping && done();
    });
  }

  private async ensureLeadership(): Promise<boolean> {
    if (!this.client) {
      const client = new pg.Client({ connectionString: this.o.databaseUrl, connectionTimeoutMillis: 5_000 });
      client.on('error', (error) => {
        this.o.logger.warn({ err: error }, 'outbox relay lost its database connection');
        if (this.client === client) {
          this.client = null;
          this.leader = false;
          this.fail(error); // another instance may lead now: stop publishing
        }
      });
      client.on('notification', () => this.notify());
      await client.connect();
      // Marking rows published need not wait for its WAL flush (a commit's largest cost under load): a mark that
      // a PostgreSQL crash loses is the same case as this process dying between publish and mark — the rows are
      // published again and the stream drops them by `Nats-Msg-Id` (or `findStored` finds them, past its window).
      await client.query('set synchronous_commit = off');
      this.client = client;
      this.leader = false;
    }
    if (!this.leader) {
      const result = await this.client.query<{ locked: boolean }>(
        'select pg_try_advisory_lock($1) as locked',
        [this.o.lockKey],
      );
      if (result.rows[0]?.locked === true) {
        // Leader only once it listens: a wake-up another process sends in between would otherwise be lost
        // until the next poll.
        await this.client.query(`listen ${OUTBOX_NOTIFY_CHANNEL}`);
        this.leader = true;
        this.o.logger.info('outbox relay is the leader');
      }
    }
    return this.leader;
  }

  private async disconnect(): Promise<void> {
    const client = this.client;
    this.client = null;
    this.leader = false;
    await client?.end().catch(() => undefined);
  }

  /**
   * Whether to read now: with room for a quarter of a batch, or nothing claimed at all. A read skips every claimed
   * row one by one (they are unpublished until marked), so reading for every few rows marked, while a backlog of
   * hundreds is queued, costs the database far more than the rows it finds.
   */
  private worthReading(): boolean {
    return this.claimed.size === 0 || this.o.batchSize - this.claimed.size >= this.o.batchSize / 4;
  }

  /** The oldest unpublished rows not already being published or marked. */
  private async fetchPending(limit: number): Promise<Row[]> {
    const result = await this.client!.query<Row>(
      `select id, event_id, event_type, subject, order_key, payload::text as payload, created_at
         from outbox where published_at is null and id <> all($2::bigint[]) order by id limit $1`,
      [limit, [...this.claimed]],
    );
    if (this.metrics) {
      const readAt = nowMs();
      for (const row of result.rows) {
        row.readAt = readAt;
        this.observe('pickup', readAt - row.created_at.getTime());
      }
    }
    return result.rows;
  }

  private observe(phase: RelayPhase, ms: number): void {
    this.metrics?.phase(phase, Math.max(0, ms) / 1000);
  }

  /**
   * Queues rows behind the unpublished rows of their aggregate, and starts a chain for each aggregate that has
   * none, up to `maxInFlight` chains publishing at once.
   */
  private dispatch(rows: Row[]): void {
    for (const row of rows) {
      this.claimed.add(row.id);
      const chain = this.chains.get(row.order_key);
      if (chain) chain.push(row);
      else {
        this.chains.set(row.order_key, [row]);
        this.waiting.push(row.order_key);
      }
    }
    while (this.publishers.size < this.o.maxInFlight && this.waiting.length > 0) {
      const publisher = this.publishChains().finally(() => this.publishers.delete(publisher));
      this.publishers.add(publisher);
    }
  }

  /**
   * Publishes waiting chains one after the other; within a chain each event waits for the previous one's ack,
   * so an aggregate's events are stored in order even if a publish fails: a failure stops every chain, and the
   * relay starts again from the oldest unpublished row (already stored ones are de-duplicated by `Nats-Msg-Id`).
   */
  private async publishChains(): Promise<void> {
    for (let key = this.waiting.shift(); key !== undefined; key = this.waiting.shift()) {
      const chain = this.chains.get(key)!;
      for (let row = chain[0]; row && !this.failure && !this.stopping; row = chain[0]) {
        try {
          const publishedAt = nowMs();
          const seq = await this.publishOne(row);
          const ackedAt = nowMs();
          this.metrics?.lag((ackedAt - row.created_at.getTime()) / 1000);
          if (row.readAt !== undefined) this.observe('queue', publishedAt - row.readAt);
          this.observe('publish', ackedAt - publishedAt);
          chain.shift();
          this.marks.add({ id: row.id, seq });
        } catch (error) {
          this.metrics?.failed();
          if (!this.failure) this.o.logger.warn({ err: error, eventId: row.event_id }, 'publish failed');
          this.fail(error);
        }
      }
      this.chains.delete(key);
    }
  }

  /**
   * No stream took a publish: the server lost its streams (or none was ever made), and the rows would wait until a
   * restart made them. A cluster electing a leader answers the same way; making a stream that exists is harmless.
   */
  private async restoreStreams(): Promise<void> {
    if (!this.o.restoreStreams) return;
    try {
      await this.o.restoreStreams();
      this.o.logger.warn('no stream took the outbox publishes; the event streams were made where missing');
    } catch (error) {
      this.o.logger.warn(
        { err: error },
        'no stream took the outbox publishes, and they could not be made again',
      );
    }
  }

  /** Stops publishing and wakes the loop, which settles what is in flight and starts again after a backoff. */
  private fail(error: unknown): void {
    if (this.failure) return;
    this.failure = error;
    this.poke();
  }

  /**
   * Waits for the publishes in flight and their marks, then forgets every row read: the next read starts
   * again from the oldest unpublished one.
   */
  private async settle(): Promise<void> {
    while (this.publishers.size > 0) await Promise.allSettled(this.publishers);
    await this.marks.flush();
    this.chains.clear();
    this.waiting.length = 0;
    this.claimed.clear();
    this.failure = null;
  }

  private async publishOne(row: Row): Promise<number> {
    if (Date.now() - row.created_at.getTime() > this.o.duplicateWindowMs * 0.8) {
      const stored = await this.findStored(row);
      if (stored !== null) return stored;
    }
    const h = natsHeaders();
    h.set('Event-Type', row.event_type);
    h.set('Content-Type', 'application/json');
    h.set('Nats-Msg-Id', row.event_id);
    return this.publisher.publish(row.subject, row.payload, h);
  }

  /**
   * Beyond the duplicate window the stream no longer remembers the id, so look at the last message on the
   * subject: an aggregate's events are published one at a time, so if this one was stored it is the last.
   */
  private async findStored(row: Row): Promise<number | null> {
    this.jsm ??= await jetstreamManager(this.o.nc);
    try {
      const last = await this.jsm.streams.getMessage(EVENTS_STREAM, { last_by_subj: row.subject });
      return last?.header.get('Nats-Msg-Id') === row.event_id ? last.seq : null;
    } catch {
      return null;
    }
  }

  private async markPublished(published: Published[]): Promise<void> {
    if (!this.client) throw new Error('outbox relay lost its database connection');
    await this.client.query(
      `update outbox set published_at = now(), stream_seq = v.seq
         from (select unnest($1::bigint[]) as id, unnest($2::bigint[]) as seq) v
        where outbox.id = v.id`,
      [published.map((p) => p.id), published.map((p) => p.seq)],
    );
    this.metrics?.published(published.length);
    const wasWorth = this.worthReading();
    for (const p of published) this.claimed.delete(p.id);
    if (!wasWorth && this.worthReading()) this.poke();
  }

  private async purgeOld(): Promise<void> {
    if (Date.now() - this.lastPurge < 60_000) return;
    this.lastPurge = Date.now();
    await this.client!.query(
      `delete from outbox where published_at < now() - ($1::bigint * interval '1 millisecond')`,
      [this.o.retentionMs],
    );
  }
}

/** A stable advisory-lock key for a service name. */
export function relayLockKey(service: string): number {
  let hash = 0;
  for (const ch of `outbox-relay:${service}`) hash = (Math.imul(hash, 31) + ch.charCodeAt(0)) | 0;
  return hash;
}
