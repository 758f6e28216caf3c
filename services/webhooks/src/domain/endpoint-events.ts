import { createEvent, type EventOf } from '@inv/contracts';
import type { Endpoint } from './endpoint.js';

const aggregateOf = (endpoint: Endpoint) => ({
  type: 'webhook_endpoint' as const,
  id: endpoint.endpointId,
  version: endpoint.version,
});

/** The event of a pause, from the endpoint as the pause left it. */
export function endpointPausedEvent(
  paused: Endpoint,
  failures: number,
  at: Date,
): EventOf<'webhooks.endpoint_paused'> {
  return createEvent(
    'webhooks.endpoint_paused',
    {
      endpointId: paused.endpointId,
      reason: paused.pausedReason ?? 'paused',
      failures,
      version: paused.version,
      timestamp: at.toISOString(),
    },
    { aggregate: aggregateOf(paused), occurredAt: at },
  );
}

/** The event of a resume, from the endpoint as it was (for when its pause began) and as the resume left it. */
export function endpointResumedEvent(
  before: Endpoint,
  resumed: Endpoint,
  actor: string,
  at: Date,
): EventOf<'webhooks.endpoint_resumed'> {
  return createEvent(
    'webhooks.endpoint_resumed',
    {
      endpointId: resumed.endpointId,
      actor,
      pausedAt: before.pausedAt,
      version: resumed.version,
      timestamp: at.toISOString(),
    },
    { aggregate: aggregateOf(resumed), occurredAt: at },
  );
}
