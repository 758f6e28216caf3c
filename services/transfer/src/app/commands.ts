import {
  type AccessClaims,
  type CreateTransferRequest,
  DomainError,
  newEventId,
  type Transfer,
  type TransferAction,
} from '@inv/contracts';
import type { EntityManager } from '@mikro-orm/postgresql';
import { assertAllowed } from '../domain/permissions.js';
import { requestTransfer, type TransferState } from '../domain/transfer.js';
import { type ReceivedLine, transition } from '../domain/transitions.js';
import { transferDtoFor } from './dto.js';
import { visibleTransfer } from './queries.js';
import { recordChange } from './record.js';

/** The caller of a command, from the request. */
export interface Caller {
  claims: AccessClaims;
  actor: string;
  correlationId: string | null;
}

/** Rules from the configuration that narrow the permission matrix. */
export interface TransferPolicy {
  /** TRANSFER_SEPARATE_APPROVER: the requester may not approve their own request. */
  separateApprover: boolean;
}

export interface TransitionInput {
  reason?: string | null;
  expectedVersion?: number;
  /** `receive` only. */
  lines?: ReceivedLine[];
}

/**
 * A client that names the version it saw fails at once when the transfer has moved on: it must look at the
 * new state (sent along) before deciding again, so retrying on its behalf would be wrong.
 */
export function assertExpectedVersion(
  transfer: TransferState,
  expectedVersion: number | undefined,
  claims: AccessClaims,
): void {
  if (expectedVersion === undefined || expectedVersion === transfer.version) return;
  throw new DomainError(
    'OPTIMISTIC_LOCK_FAILURE',
    `The transfer was changed by someone else: it is at version ${transfer.version}, not ${expectedVersion}.`,
    {
      reason: 'STALE_VERSION',
      expectedVersion,
      currentVersion: transfer.version,
      current: transferDtoFor(transfer, claims),
    },
  );
}

/** `POST /api/transfers`: a new transfer, requested by a clerk (or more) of one of its warehouses. */
export async function createTransfer(
  em: EntityManager,
  request: CreateTransferRequest,
  caller: Caller,
): Promise<Transfer> {
  assertAllowed({ claims: caller.claims, command: 'request', transfer: request });
  const now = new Date();
  const change = requestTransfer({ transferId: newEventId(now.getTime()), ...request }, caller.actor, now);
  return recordChange(em, change, { correlationId: caller.correlationId });
}

/** `POST /api/transfers/:id/{action}`: one step of the workflow, by a caller the permission matrix allows. */
export async function performTransition(
  em: EntityManager,
  transferId: string,
  action: TransferAction,
  input: TransitionInput,
  caller: Caller,
  policy: TransferPolicy = { separateApprover: false },
): Promise<Transfer> {
  const transfer = await visibleTransfer(em, caller.claims, transferId);
  assertAllowed({
    claims: caller.claims,
    command: action,
    transfer,
    separateApprover: policy.separateApprover,
  });
  assertExpectedVersion(transfer, input.expectedVersion, caller.claims);
  const change = transition(
    transfer,
    action,
    { actor: caller.actor, reason: input.reason ?? null, received: input.lines },
    new Date(),
  );
  return recordChange(em, change, { correlationId: caller.correlationId });
}
