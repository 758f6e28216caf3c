import { type CreateTransferRequest, newEventId, type Transfer, type TransferAction } from '@inv/contracts';
import { assertExpectedVersion, type Caller } from '@inv/platform';
import type { EntityManager } from '@mikro-orm/postgresql';
import { assertAllowed } from '../domain/permissions.js';
import { requestTransfer } from '../domain/transfer.js';
import { type ReceivedLine, transition } from '../domain/transitions.js';
import { transferDtoFor } from './dto.js';
import { visibleTransfer } from './queries.js';
import { recordChange } from './record.js';

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
  assertExpectedVersion('transfer', input.expectedVersion, {
    version: transfer.version,
    current: () => transferDtoFor(transfer, caller.claims),
  });
  const change = transition(
    transfer,
    action,
    { actor: caller.actor, reason: input.reason ?? null, received: input.lines },
    new Date(),
  );
  return recordChange(em, change, { correlationId: caller.correlationId });
}
