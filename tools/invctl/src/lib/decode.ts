import { type DomainEvent, decodeEvent, EVENTS_STREAM, subjectOf } from '@inv/contracts';
import type { StreamMessage } from './reader.js';

export type DecodedRow =
  | { seq: number; time: string; subject: string; valid: true; upcastFrom: number | null; event: DomainEvent }
  | {
      seq: number;
      time: string;
      subject: string;
      valid: false;
      error: { reason: string; message: string };
      payload: string;
    };

const MAX_PAYLOAD_SHOWN = 2_000;

/**
 * Validates a stored message against the contracts (envelope, data of its version, upcast to the current one)
 * and, in the EVENTS stream, that it sits on the subject its type and data call for. Invalid messages are
 * rows too: an operator must see them, never have them silently skipped.
 */
export function decodeMessage(stream: string, message: StreamMessage): DecodedRow {
  const base = { seq: message.seq, time: message.time.toISOString(), subject: message.subject };
  const invalid = (reason: string, text: string): DecodedRow => {
    const payload = new TextDecoder().decode(message.data);
    return {
      ...base,
      valid: false,
      error: { reason, message: text },
      payload: payload.length > MAX_PAYLOAD_SHOWN ? `${payload.slice(0, MAX_PAYLOAD_SHOWN)}…` : payload,
    };
  };
  const decoded = decodeEvent(message.data);
  if (!decoded.ok) return invalid(decoded.reason, decoded.message);
  if (stream === EVENTS_STREAM) {
    const expected = subjectOf(decoded.event);
    if (expected !== message.subject) return invalid('subject_mismatch', `event belongs on ${expected}`);
  }
  return { ...base, valid: true, upcastFrom: decoded.upcastFrom, event: decoded.event };
}

function signed(n: number): string {
  return n >= 0 ? `+${n}` : String(n);
}

/** One line that tells an operator what happened, per event type. */
export function summarize(event: DomainEvent): string {
  switch (event.type) {
    case 'inventory.updated': {
      const d = event.data;
      const reserved = d.reservedChange === 0 ? '' : ` (${signed(d.reservedChange)})`;
      return `${d.movementType} ${signed(d.changeAmount)}: available ${d.quantityAvailable}, reserved ${d.quantityReserved}${reserved}, v${d.version}`;
    }
    case 'inventory.low_stock':
      return `available ${event.data.quantityAvailable} < minimum ${event.data.minimumStock}, v${event.data.version}`;
    case 'inventory.out_of_stock':
      return `out of stock (minimum ${event.data.minimumStock}), v${event.data.version}`;
    case 'batch.expiring_soon':
      return `batch ${event.data.batchNumber} (${event.data.quantity}) expires in ${event.data.daysUntilExpiry} d`;
    case 'inventory.reserved':
      return `reserved ${event.data.lines.length} line(s) at ${event.data.warehouseId}`;
    case 'inventory.reservation_failed':
      return `reservation failed: ${event.data.reason}`;
    case 'inventory.reservation_created':
      return `reservation ${event.data.reservationId} (${event.data.reference}) holds ${event.data.quantity} until ${event.data.expiresAt}`;
    case 'inventory.reservation_committed':
      return `reservation ${event.data.reservationId} committed ${event.data.committedQuantity}, released ${event.data.releasedQuantity}`;
    case 'inventory.reservation_released':
      return `reservation ${event.data.reservationId} released ${event.data.releasedQuantity} (${event.data.reason})`;
    case 'inventory.reservation_extended':
      return `reservation ${event.data.reservationId} extended to ${event.data.expiresAt}`;
    case 'webhooks.endpoint_paused':
      return `webhook endpoint ${event.data.endpointId} paused after ${event.data.failures} failed event(s): ${event.data.reason}`;
    case 'webhooks.endpoint_resumed':
      return `webhook endpoint ${event.data.endpointId} resumed by ${event.data.actor}`;
    default: {
      const d = event.data;
      const from = d.previousStatus ? `${d.previousStatus} → ` : '';
      return `${from}${d.status}, ${d.lines.length} line(s), v${d.version} by ${d.actor}`;
    }
  }
}

export function rowSummary(row: DecodedRow): string {
  return row.valid ? summarize(row.event) : `INVALID ${row.error.reason}: ${row.error.message}`;
}

export function rowType(row: DecodedRow): string {
  return row.valid ? row.event.type : '(invalid)';
}
