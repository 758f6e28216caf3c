import { GATEWAY_SESSIONS_BUCKET } from '@inv/contracts';
import { jetstreamManager } from '@nats-io/jetstream';
import { type KV, Kvm, KvWatchInclude } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import type { SessionBucketListener, SessionClaim, SessionRepository } from '../../app/ports.js';
import {
  channelOfSessionKey,
  OWNER_KEYS,
  prefixOfOwnerKey,
  sessionKey,
  sessionOwnerKey,
} from '../../domain/session-keys.js';
import { BucketKeeper } from './bucket-keeper.js';

const MAX_CLAIM_ATTEMPTS = 10;
/** How often a watching gateway looks whether the bucket was lost or made anew (one STREAM.INFO). */
const BUCKET_CHECK_MS = 2_000;

/** An owner key's value: `{owner, since}`; a bare connection id (written before claims were ordered) counts as oldest. */
function parseClaim(text: string): SessionClaim | null {
  if (!text.startsWith('{')) return text ? { owner: text, since: 0 } : null;
  try {
    const value = JSON.parse(text) as { owner?: unknown; since?: unknown };
    if (typeof value.owner !== 'string' || typeof value.since !== 'number') return null;
    return { owner: value.owner, since: value.since };
  } catch {
    return null;
  }
}

/**
 * Durable sessions in the `gateway-sessions` KV bucket, one key per (user, session, channel) holding a cursor.
 * The bucket's TTL is the inactivity threshold: a session nobody wrote to for that long is forgotten.
 */
export async function openSessionBucket(
  nc: NatsConnection,
  options: { ttlMs: number; replicas: number },
): Promise<SessionRepository> {
  const kvm = new Kvm(nc);
  const make = () =>
    kvm.create(GATEWAY_SESSIONS_BUCKET, {
      history: 1,
      ttl: options.ttlMs,
      replicas: options.replicas,
      description: 'Positions of durable gateway sessions per channel',
    });
  const jsm = await jetstreamManager(nc);
  const stream = `KV_${GATEWAY_SESSIONS_BUCKET}`;
  const bucket = await BucketKeeper.open(jsm, stream, make);
  const subjectPrefix = `$KV.${GATEWAY_SESSIONS_BUCKET}.`;
  /**
   * The keys under `filter` (a key pattern), from one STREAM.INFO listing their subjects, not `kv.keys()`: that
   * creates a consumer and reads until nothing is pending, and with the keys written meanwhile it took 18 s in a
   * loaded test run (a bind waiting on it timed out, and the connection went on unbound: never taken over).
   */
  const keysMatching = (filter: string): Promise<string[]> =>
    bucket.run(async () => {
      const info = await jsm.streams.info(stream, { subjects_filter: `${subjectPrefix}${filter}` });
      return Object.keys(info.state.subjects ?? {}).map((subject) => subject.slice(subjectPrefix.length));
    });
  return {
    async load(prefix) {
      // Removed channels are listed too (their delete marker is the subject's last message): `get` tells them.
      // The owner key is not a channel: only channels' keys are read.
      const channels = (await keysMatching(`${prefix}.>`)).flatMap((key) => {
        const channel = channelOfSessionKey(prefix, key);
        return channel ? [{ key, channel }] : [];
      });
      const entries = await bucket.run((kv) =>
        Promise.all(channels.map(async (c) => ({ ...c, entry: await kv.get(c.key) }))),
      );
      const positions = new Map<string, string>();
      for (const { channel, entry } of entries) {
        if (entry?.operation === 'PUT') positions.set(channel, entry.string());
      }
      return positions;
    },
    async save(prefix, channel, cursor) {
      await bucket.run((kv) => kv.put(sessionKey(prefix, channel), cursor));
    },
    async remove(prefix, channel) {
      await bucket.run((kv) => kv.delete(sessionKey(prefix, channel)));
    },
    claim(prefix, owner, since) {
      return bucket.run((kv) => claimIn(kv, prefix, owner, since));
    },
    async owner(prefix) {
      const entry = await bucket.run((kv) => kv.get(sessionOwnerKey(prefix)));
      return entry?.operation === 'PUT' ? (parseClaim(entry.string())?.owner ?? null) : null;
    },
    watch(listener) {
      return watchBucket(bucket, listener, BUCKET_CHECK_MS);
    },
    async sessionsOf(user) {
      const sessions = new Set<string>();
      for (const key of await keysMatching(`${user}.*.>`)) sessions.add(key.split('.')[1]!);
      return sessions;
    },
  };
}

/** Takes the session for `owner` unless a connection whose bind began later holds it (compare-and-set). */
async function claimIn(kv: KV, prefix: string, owner: string, since: number): Promise<boolean> {
  const key = sessionOwnerKey(prefix);
  const value = JSON.stringify({ owner, since });
  for (let attempt = 1; ; attempt++) {
    const entry = await kv.get(key);
    const held = entry?.operation === 'PUT' ? parseClaim(entry.string()) : null;
    if (held && held.since > since) return false;
    try {
      // Compare-and-set: a claim landing in between makes this one look again.
      if (entry) await kv.update(key, value, entry.revision);
      else await kv.create(key, value);
      return true;
    } catch (error) {
      if (attempt >= MAX_CLAIM_ATTEMPTS) throw error;
    }
  }
}

/**
 * Tells the listener of every claim that lands, and of a bucket made anew. A watch does not outlive its bucket:
 * its ordered consumer, re-created on the new stream, resumes after the last sequence it saw, past the new
 * stream's start, so claims there went unseen. The bucket is looked at every `checkMs`; when its stream is a new
 * one, a new watch starts with the last claim of every session (claims made before it started included).
 */
async function watchBucket(
  bucket: BucketKeeper,
  listener: SessionBucketListener,
  checkMs: number,
): Promise<() => void> {
  let current: Awaited<ReturnType<KV['watch']>> | null = null;
  let stopped = false;
  /** The bucket was made anew but the new watch could not be opened yet: the next tick tries again. */
  let unwatched = false;
  const open = async (include: KvWatchInclude) => {
    const watch = await bucket.kv.watch({ key: OWNER_KEYS, include, ignoreDeletes: true });
    if (stopped) return watch.stop();
    current?.stop();
    current = watch;
    void (async () => {
      for await (const entry of watch) {
        const prefix = prefixOfOwnerKey(entry.key);
        const claim = entry.operation === 'PUT' ? parseClaim(entry.string()) : null;
        if (prefix && claim) listener.claimed(prefix, claim);
      }
    })().catch(() => {
      // The watch ended with the connection: holders still check the owner key before each write.
    });
  };
  const reopen = () =>
    open(KvWatchInclude.LastValue).then(
      () => {
        unwatched = false;
      },
      () => {
        unwatched = true;
      },
    );
  await open(KvWatchInclude.UpdatesOnly);
  const stopListening = bucket.onRecreated(async () => {
    await reopen();
    listener.recreated();
  });
  const timer = setInterval(() => {
    if (unwatched) void reopen();
    else void bucket.check().catch(() => undefined);
  }, checkMs);
  timer.unref();
  return () => {
    stopped = true;
    clearInterval(timer);
    stopListening();
    current?.stop();
  };
}
