import { GATEWAY_SESSIONS_BUCKET } from '@inv/contracts';
import { jetstreamManager } from '@nats-io/jetstream';
import { Kvm, KvWatchInclude } from '@nats-io/kv';
import type { NatsConnection } from '@nats-io/nats-core';
import type { SessionClaim, SessionRepository } from '../../app/ports.js';
import {
  channelOfSessionKey,
  OWNER_KEYS,
  prefixOfOwnerKey,
  sessionKey,
  sessionOwnerKey,
} from '../../domain/session-keys.js';

const MAX_CLAIM_ATTEMPTS = 10;

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
  const kv = await new Kvm(nc).create(GATEWAY_SESSIONS_BUCKET, {
    history: 1,
    ttl: options.ttlMs,
    replicas: options.replicas,
    description: 'Positions of durable gateway sessions per channel',
  });
  const jsm = await jetstreamManager(nc);
  const stream = `KV_${GATEWAY_SESSIONS_BUCKET}`;
  const subjectPrefix = `$KV.${GATEWAY_SESSIONS_BUCKET}.`;
  /**
   * The keys under `filter` (a key pattern), from one STREAM.INFO listing their subjects, not `kv.keys()`: that
   * creates a consumer and reads until nothing is pending, and with the keys written meanwhile it took 18 s in a
   * loaded test run (a bind waiting on it timed out, and the connection went on unbound: never taken over).
   */
  const keysMatching = async (filter: string): Promise<string[]> => {
    const info = await jsm.streams.info(stream, { subjects_filter: `${subjectPrefix}${filter}` });
    return Object.keys(info.state.subjects ?? {}).map((subject) => subject.slice(subjectPrefix.length));
  };
  return {
    async load(prefix) {
      // Removed channels are listed too (their delete marker is the subject's last message): `get` tells them.
      // The owner key is not a channel: only channels' keys are read.
      const channels = (await keysMatching(`${prefix}.>`)).flatMap((key) => {
        const channel = channelOfSessionKey(prefix, key);
        return channel ? [{ key, channel }] : [];
      });
      const entries = await Promise.all(channels.map(async (c) => ({ ...c, entry: await kv.get(c.key) })));
      const positions = new Map<string, string>();
      for (const { channel, entry } of entries) {
        if (entry?.operation === 'PUT') positions.set(channel, entry.string());
      }
      return positions;
    },
    async save(prefix, channel, cursor) {
      await kv.put(sessionKey(prefix, channel), cursor);
    },
    async remove(prefix, channel) {
      await kv.delete(sessionKey(prefix, channel));
    },
    async claim(prefix, owner, since) {
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
    },
    async owner(prefix) {
      const entry = await kv.get(sessionOwnerKey(prefix));
      return entry?.operation === 'PUT' ? (parseClaim(entry.string())?.owner ?? null) : null;
    },
    async watchClaims(onClaim) {
      const watch = await kv.watch({
        key: OWNER_KEYS,
        include: KvWatchInclude.UpdatesOnly,
        ignoreDeletes: true,
      });
      void (async () => {
        for await (const entry of watch) {
          const prefix = prefixOfOwnerKey(entry.key);
          const claim = entry.operation === 'PUT' ? parseClaim(entry.string()) : null;
          if (prefix && claim) onClaim(prefix, claim);
        }
      })().catch(() => {
        // The watch ended with the connection: holders still check the owner key before each write.
      });
      return () => watch.stop();
    },
    async sessionsOf(user) {
      const sessions = new Set<string>();
      for (const key of await keysMatching(`${user}.*.>`)) sessions.add(key.split('.')[1]!);
      return sessions;
    },
  };
}
