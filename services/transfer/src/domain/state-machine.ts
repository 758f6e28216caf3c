import { DomainError, TRANSFER_ACTIONS, type TransferAction, type TransferStatus } from '@inv/contracts';

/** Who may make a transition: a caller through the REST API, or the system reacting to inventory's answer. */
export type Initiator = 'caller' | 'system';

/**
 * Every allowed transition of a transfer and who may make it; anything not listed is refused.
 *
 *   requested → approved | rejected | cancelled
 *   approved → picking_started | rejected (system: the source lacks stock) | cancelled
 *   picking_started → packed | cancelled;  packed → shipped | cancelled
 *   shipped → received → completed   (once shipped, goods are on the road: no cancelling)
 */
export const TRANSITIONS: Readonly<
  Record<TransferStatus, Readonly<Partial<Record<TransferStatus, Initiator>>>>
> = {
  requested: { approved: 'caller', rejected: 'caller', cancelled: 'caller' },
  approved: { picking_started: 'caller', rejected: 'system', cancelled: 'caller' },
  picking_started: { packed: 'caller', cancelled: 'caller' },
  packed: { shipped: 'caller', cancelled: 'caller' },
  shipped: { received: 'caller' },
  received: { completed: 'caller' },
  completed: {},
  rejected: {},
  cancelled: {},
};

export const TERMINAL_STATUSES: readonly TransferStatus[] = (
  Object.keys(TRANSITIONS) as TransferStatus[]
).filter((status) => Object.keys(TRANSITIONS[status]).length === 0);

export function canTransition(from: TransferStatus, to: TransferStatus, by: Initiator): boolean {
  return TRANSITIONS[from][to] === by;
}

const ACTIONS = Object.keys(TRANSFER_ACTIONS) as TransferAction[];

/** The REST actions a caller can take on a transfer in this status. */
export function allowedActions(from: TransferStatus): TransferAction[] {
  return ACTIONS.filter((action) => canTransition(from, TRANSFER_ACTIONS[action], 'caller'));
}

/** Refuses a transition the table does not allow, naming the current status and what is possible from it. */
export function assertTransition(
  from: TransferStatus,
  action: TransferAction,
  by: Initiator = 'caller',
): void {
  const to = TRANSFER_ACTIONS[action];
  if (canTransition(from, to, by)) return;
  const allowed = allowedActions(from);
  throw new DomainError(
    'INVALID_TRANSITION',
    `Cannot ${action} a transfer that is ${from}; ` +
      (allowed.length > 0 ? `allowed: ${allowed.join(', ')}.` : 'it is final.'),
    { currentStatus: from, action, targetStatus: to, allowedActions: allowed },
  );
}
