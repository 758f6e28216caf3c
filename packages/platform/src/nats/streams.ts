import {
  DEAD_LETTERS_PREFIX,
  DEAD_LETTERS_STREAM,
  EVENTS_STREAM,
  EVENTS_STREAM_DEFAULTS,
  EVENTS_SUBJECTS,
  type EventsStreamOptions,
  LIVE_PREFIX,
} from '@inv/contracts';
import {
  AckPolicy,
  DeliverPolicy,
  DiscardPolicy,
  JetStreamApiError,
  type JetStreamManager,
  RetentionPolicy,
  StorageType,
  type StreamConfig,
  type StreamInfo,
} from '@nats-io/jetstream';
import { nanos } from '@nats-io/nats-core';
import { backoffDelay, sleep } from '../retry.js';

const STREAM_NOT_FOUND = 10059;

/** JetStream answered that the stream does not exist (not a timeout, nor a server away). */
export function isStreamNotFound(error: unknown): boolean {
  return error instanceof JetStreamApiError && error.code === STREAM_NOT_FOUND;
}
const CONSUMER_NOT_FOUND = 10014;

export function eventsStreamConfig(
  options: EventsStreamOptions = {},
): Partial<StreamConfig> & { name: string } {
  const o = { ...EVENTS_STREAM_DEFAULTS, ...options };
  return {
    name: EVENTS_STREAM,
    subjects: [...EVENTS_SUBJECTS],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    discard: DiscardPolicy.Old,
    num_replicas: o.replicas,
    max_age: nanos(o.maxAgeMs),
    max_bytes: o.maxBytes,
    duplicate_window: nanos(o.duplicateWindowMs),
    republish: { src: '>', dest: `${LIVE_PREFIX}.>` },
  };
}

/** Creates the EVENTS stream, or brings an existing one's settings up to date; safe to run on every start. */
export function ensureEventsStream(
  jsm: JetStreamManager,
  options: EventsStreamOptions = {},
): Promise<StreamInfo> {
  return ensureStream(jsm, eventsStreamConfig(options));
}

/** A dead letter is removed only by an operator, so the stream keeps everything (up to a size that refuses more). */
const DEAD_LETTERS_MAX_BYTES = 256 * 1024 ** 2;

export function deadLettersStreamConfig(
  options: Pick<EventsStreamOptions, 'replicas'> = {},
): Partial<StreamConfig> & { name: string } {
  return {
    name: DEAD_LETTERS_STREAM,
    subjects: [`${DEAD_LETTERS_PREFIX}.>`],
    storage: StorageType.File,
    retention: RetentionPolicy.Limits,
    // Full: publishing a dead letter fails, so the consumer keeps retrying (and says so) instead of losing one.
    discard: DiscardPolicy.New,
    num_replicas: options.replicas ?? EVENTS_STREAM_DEFAULTS.replicas,
    max_bytes: DEAD_LETTERS_MAX_BYTES,
    duplicate_window: nanos(EVENTS_STREAM_DEFAULTS.duplicateWindowMs),
  };
}

/** Creates the DEAD_LETTERS stream or brings its settings up to date. */
export function ensureDeadLettersStream(
  jsm: JetStreamManager,
  options: Pick<EventsStreamOptions, 'replicas'> = {},
): Promise<StreamInfo> {
  return ensureStream(jsm, deadLettersStreamConfig(options));
}

/** `no suitable peers for placement`: a fresh cluster's meta leader does not yet know its peers are current. */
const NO_SUITABLE_PEERS = 10005;
/** How long a start waits for a fresh cluster to be able to place the stream before it gives up. */
const PLACEMENT_WAIT_MS = 30_000;

/**
 * Brings a stream up, waiting (bounded) while a freshly started cluster cannot place it yet; any other error, or
 * the same one for longer than that, is the caller's.
 */
async function ensureStream(
  jsm: JetStreamManager,
  config: Partial<StreamConfig> & { name: string },
): Promise<StreamInfo> {
  const deadline = Date.now() + PLACEMENT_WAIT_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      return await ensureStreamOnce(jsm, config);
    } catch (error) {
      const unplaceable = error instanceof JetStreamApiError && error.code === NO_SUITABLE_PEERS;
      if (!unplaceable || Date.now() > deadline) throw error;
      await sleep(backoffDelay(attempt, 200, 2_000));
    }
  }
}

async function ensureStreamOnce(
  jsm: JetStreamManager,
  config: Partial<StreamConfig> & { name: string },
): Promise<StreamInfo> {
  try {
    const info = await jsm.streams.info(config.name);
    if (needsUpdate(info.config, config)) return await jsm.streams.update(config.name, config);
    return info;
  } catch (error) {
    if (isStreamNotFound(error)) return jsm.streams.add(config);
    throw error;
  }
}

function needsUpdate(current: StreamConfig, wanted: Partial<StreamConfig>): boolean {
  return (Object.keys(wanted) as (keyof StreamConfig)[]).some(
    (key) => JSON.stringify(current[key]) !== JSON.stringify(wanted[key]),
  );
}

export interface DurableOptions {
  stream?: string;
  name: string;
  filterSubject: string;
  ackWaitMs?: number;
  maxDeliver?: number;
  /** 1 processes strictly one message at a time across every instance of the service. */
  maxAckPending?: number;
}

/**
 * Handlers are one short database transaction, so a message unacked for 10 s belongs to a crashed instance: it is
 * redelivered to a live one soon instead of stalling a saga (the inbox makes the redelivery harmless).
 */
export const DEFAULT_ACK_WAIT_MS = 10_000;

/** Creates a durable pull consumer or updates its mutable settings. */
export async function ensureDurableConsumer(jsm: JetStreamManager, options: DurableOptions): Promise<void> {
  const stream = options.stream ?? EVENTS_STREAM;
  const config = {
    durable_name: options.name,
    filter_subject: options.filterSubject,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    ack_wait: nanos(options.ackWaitMs ?? DEFAULT_ACK_WAIT_MS),
    max_deliver: options.maxDeliver ?? -1,
    max_ack_pending: options.maxAckPending ?? 1,
  };
  try {
    await jsm.consumers.info(stream, options.name);
    await jsm.consumers.update(stream, options.name, {
      ack_wait: config.ack_wait,
      max_deliver: config.max_deliver,
      max_ack_pending: config.max_ack_pending,
    });
  } catch (error) {
    if (error instanceof JetStreamApiError && error.code === CONSUMER_NOT_FOUND) {
      await jsm.consumers.add(stream, config);
      return;
    }
    throw error;
  }
}
