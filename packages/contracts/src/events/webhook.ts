import { z } from 'zod';
import { Id } from '../ids.js';
import { Timestamp, Version } from './common.js';

/**
 * Events of the webhook bridge about its endpoints (aggregate `webhook_endpoint`). They name no warehouse, so
 * like reservation answers they reach only all-warehouse consumers: the consumer kit with every warehouse, `*`
 * webhook endpoints and the gateway's `global` channel.
 */

/** The bridge stopped delivering to an endpoint that kept failing; its consumer keeps its place until resumed. */
export const WebhookEndpointPausedV1 = z.object({
  endpointId: Id,
  /** Why, in words, for an operator. */
  reason: z.string().max(500),
  /** Consecutive events that exhausted their retries (and went to the dead-letter list) before the pause. */
  failures: z.int().min(1),
  /** The endpoint's version after the pause. */
  version: Version,
  /** When it was paused. */
  timestamp: Timestamp,
});

/** An admin resumed a paused endpoint: delivery continues where its consumer stopped. */
export const WebhookEndpointResumedV1 = z.object({
  endpointId: Id,
  /** The subject of the token that resumed it. */
  actor: z.string().max(256),
  /** When the pause that ended had begun. */
  pausedAt: Timestamp.nullable(),
  version: Version,
  /** When it was resumed. */
  timestamp: Timestamp,
});
