import { createHash } from 'node:crypto';

/**
 * Keys of the durable-session bucket: `{user}.{session}.{channel}`. The user part is a hash of the token's
 * subject, so a session id guessed by someone else names nothing of theirs. KV keys allow `[-/=.\w]` with `.`
 * separating tokens; channel names use `:`, which ids never contain, and neither do they contain `=`, so `:`
 * becomes `=` and back.
 */
export function sessionPrefix(subject: string, sessionId: string): string {
  return `${userKey(subject)}.${sessionId}`;
}

/** The user part of every key of a subject's sessions. */
export function userKey(subject: string): string {
  return createHash('sha256').update(subject).digest('base64url').slice(0, 22);
}

export function sessionKey(prefix: string, channel: string): string {
  return `${prefix}.${channel.replaceAll(':', '=')}`;
}

const OWNER_TOKEN = '_owner';

/**
 * The key naming the connection that holds a session (`_` starts no channel name): a newer connection takes the
 * session over by writing it, and an older one stops writing positions once it sees another name there.
 */
export function sessionOwnerKey(prefix: string): string {
  return `${prefix}.${OWNER_TOKEN}`;
}

/** Every session's owner key (user keys and session ids hold no `.`). */
export const OWNER_KEYS = `*.*.${OWNER_TOKEN}`;

/** The session prefix of an owner key; null for any other key. */
export function prefixOfOwnerKey(key: string): string | null {
  const suffix = `.${OWNER_TOKEN}`;
  return key.endsWith(suffix) ? key.slice(0, -suffix.length) : null;
}

export function channelOfSessionKey(prefix: string, key: string): string | null {
  if (!key.startsWith(`${prefix}.`) || key === sessionOwnerKey(prefix)) return null;
  const encoded = key.slice(prefix.length + 1);
  return encoded.includes('.') ? null : encoded.replaceAll('=', ':');
}
