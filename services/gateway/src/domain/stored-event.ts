import { EVENT_CATALOG, isEventType, parseEvent, parseSubject, warehousesOfSubject } from '@inv/contracts';

/**
 * One event of the EVENTS stream, decoded once and shared by every channel and client it goes to: the parts a
 * frame needs, with `data` already serialised at the current schema version.
 */
export interface StoredEvent {
  seq: number;
  subject: string;
  id: string;
  type: string;
  occurredAt: string;
  occurredAtMs: number;
  /** `data` as JSON text, upcast to the type's current version. */
  dataJson: string;
  /** The warehouses the event concerns (from its subject); what claims are checked against. */
  warehouses: readonly string[];
}

interface Envelope {
  id?: unknown;
  type?: unknown;
  schemaVersion?: unknown;
  occurredAt?: unknown;
  data?: unknown;
}

/**
 * Decodes a stored message. Events at their type's current version take the fast path (the producers validated
 * them before they were stored; re-validating every one would dominate replay time); older versions are
 * validated and upcast; types this gateway does not know yet are forwarded as they are. Returns null for a
 * message that is not an event at all.
 */
export function decodeStoredEvent(
  seq: number,
  subject: string,
  bytes: Uint8Array | string,
): StoredEvent | null {
  let raw: Envelope;
  try {
    raw = JSON.parse(
      typeof bytes === 'string'
        ? bytes
        : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('utf8'),
    );
  } catch {
    return null;
  }
  if (typeof raw !== 'object' || raw === null) return null;
  const { id, type, occurredAt } = raw;
  if (typeof id !== 'string' || typeof type !== 'string' || typeof occurredAt !== 'string') return null;
  let data = raw.data;
  if (isEventType(type) && raw.schemaVersion !== EVENT_CATALOG[type].current) {
    const parsed = parseEvent(raw);
    if (!parsed.ok) return null;
    data = parsed.event.data;
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return null;
  const parsedSubject = parseSubject(subject);
  return {
    seq,
    subject,
    id,
    type,
    occurredAt,
    occurredAtMs: Date.parse(occurredAt),
    dataJson: JSON.stringify(data),
    warehouses: parsedSubject ? warehousesOfSubject(parsedSubject) : [],
  };
}

/**
 * The last few decoded events by sequence: a message reaches several channels of one process (global, its
 * product, its warehouse…) one after another, and each would otherwise decode it again.
 */
export class RecentEvents {
  private readonly events = new Map<number, { subject: string; event: StoredEvent | null }>();

  constructor(private readonly capacity = 256) {}

  decode(seq: number, subject: string, bytes: Uint8Array): StoredEvent | null {
    const known = this.events.get(seq);
    // A message claiming another's sequence (forged on `live.>`) must not stand in for the real one.
    if (known !== undefined && known.subject === subject) return known.event;
    const event = decodeStoredEvent(seq, subject, bytes);
    this.events.set(seq, { subject, event });
    if (this.events.size > this.capacity) {
      const oldest = this.events.keys().next().value as number;
      this.events.delete(oldest);
    }
    return event;
  }

  clear(): void {
    this.events.clear();
  }
}
