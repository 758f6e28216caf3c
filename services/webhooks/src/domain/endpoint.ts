import {
  type AccessClaims,
  ALL_WAREHOUSES,
  canSeeWarehouse,
  type DomainEvent,
  parseSubject,
  subjectOf,
  warehousesOfSubject,
} from '@inv/contracts';

/** `active` delivers; `paused` (failing for long, or by an operator) keeps its place in the stream. */
export type EndpointState = 'active' | 'paused';

export const ENDPOINT_TRANSITIONS: Record<EndpointState, EndpointState[]> = {
  active: ['paused'],
  paused: ['active'],
};

export function canTransition(from: EndpointState, to: EndpointState): boolean {
  return ENDPOINT_TRANSITIONS[from].includes(to);
}

export interface Endpoint {
  endpointId: string;
  url: string;
  eventTypes: string[];
  /** Already confined to what the registering admin could see; `*` only for an all-warehouse admin. */
  warehouses: string[];
  secret: string;
  state: EndpointState;
  pausedReason: string | null;
  /** When the current pause began; null while active. */
  pausedAt: string | null;
  /** Bumped by every pause and resume: the aggregate version of the endpoint's events. */
  version: number;
  /** Events set aside in a row since the last delivery or resume; reaching the limit pauses the endpoint. */
  consecutiveDeadLetters: number;
  createdBy: string;
  createdAt: string;
}

/**
 * Whether an admin may see and manage an endpoint (read it, its dead letters with their event bodies, resume,
 * redrive, delete): only when they see every warehouse it delivers, as registering it would have needed. An
 * endpoint of `*` is an all-warehouse admin's.
 */
export function managesEndpoint(
  claims: Pick<AccessClaims, 'warehouses'>,
  endpoint: Pick<Endpoint, 'warehouses'>,
) {
  if (claims.warehouses.includes(ALL_WAREHOUSES)) return true;
  return endpoint.warehouses.every(
    (warehouse) => warehouse !== ALL_WAREHOUSES && canSeeWarehouse(claims, warehouse),
  );
}

/**
 * Whether an endpoint gets this event: its type is subscribed and it concerns a subscribed warehouse. Events
 * with no warehouse on their subject (reservation answers) go only to all-warehouse endpoints.
 */
export function endpointWants(
  endpoint: Pick<Endpoint, 'eventTypes' | 'warehouses'>,
  event: DomainEvent,
): boolean {
  if (!endpoint.eventTypes.includes(event.type)) return false;
  if (endpoint.warehouses.includes(ALL_WAREHOUSES)) return true;
  const parsed = parseSubject(subjectOf(event));
  if (!parsed) return false;
  return warehousesOfSubject(parsed).some((w) => endpoint.warehouses.includes(w));
}

/** Why an endpoint is to be paused after this run of dead letters, or null while the run is under the limit. */
export function pauseReason(consecutiveDeadLetters: number, pauseAfter: number): string | null {
  if (consecutiveDeadLetters < pauseAfter) return null;
  return `${consecutiveDeadLetters} consecutive events failed for the whole retry period`;
}
