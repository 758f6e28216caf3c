import { z } from 'zod';
import { EVENT_ID_PATTERN } from '../event-id.js';
import { Id } from '../ids.js';
import { Timestamp, Version } from './common.js';

export const AggregateType = z.enum(['inventory', 'transfer', 'webhook_endpoint']);
export type AggregateType = z.infer<typeof AggregateType>;

export const AggregateRef = z.object({ type: AggregateType, id: Id, version: Version });
export type AggregateRef = z.infer<typeof AggregateRef>;

/** The envelope every event travels in, whatever its type and version; `data` is checked per type. */
export const RawEnvelope = z.object({
  id: z.string().regex(EVENT_ID_PATTERN, { error: 'must be a UUIDv7' }),
  type: z.string().min(1).max(64),
  schemaVersion: z.int().min(1),
  occurredAt: Timestamp,
  aggregate: AggregateRef,
  correlationId: z.string().max(128).nullable(),
  causationId: z.string().max(128).nullable(),
  data: z.unknown(),
});
export type RawEnvelope = z.infer<typeof RawEnvelope>;

export function envelopeOf<const T extends string, const V extends number, D extends z.ZodType>(
  type: T,
  schemaVersion: V,
  data: D,
) {
  return RawEnvelope.extend({ type: z.literal(type), schemaVersion: z.literal(schemaVersion), data });
}
