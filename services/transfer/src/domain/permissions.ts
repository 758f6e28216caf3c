import {
  type AccessClaims,
  canSeeWarehouse,
  DomainError,
  type Role,
  type TransferAction,
} from '@inv/contracts';
import type { TransferState } from './transfer.js';

/** Everything a caller can do to a transfer: request it, then one action per workflow step. */
export type TransferCommand = 'request' | TransferAction;
export type TransferSide = 'source' | 'destination';

/** A role at one end of the transfer: the caller's token must name that warehouse (or `*`) and the role. */
export interface SideRequirement {
  side: TransferSide;
  role: Exclude<Role, 'viewer'>;
}

export interface CommandRule {
  /** Any one of these suffices. */
  anyOf: readonly SideRequirement[];
  /** The caller who requested the transfer may also do it (while they can still request it). */
  requester?: boolean;
}

const clerkOf = (side: TransferSide): SideRequirement => ({ side, role: 'clerk' });
const managerOf = (side: TransferSide): SideRequirement => ({ side, role: 'manager' });

/**
 * The permission matrix: who may do what to a transfer, by warehouse side and minimum role. Deciding and
 * handing over the goods belong to the source, taking them in to the destination; either end may ask.
 */
export const TRANSFER_PERMISSIONS: Readonly<Record<TransferCommand, CommandRule>> = {
  request: { anyOf: [clerkOf('destination'), clerkOf('source')] },
  approve: { anyOf: [managerOf('source')] },
  reject: { anyOf: [managerOf('source')] },
  'start-picking': { anyOf: [clerkOf('source')] },
  pack: { anyOf: [clerkOf('source')] },
  ship: { anyOf: [clerkOf('source')] },
  receive: { anyOf: [clerkOf('destination')] },
  complete: { anyOf: [clerkOf('destination')] },
  cancel: { anyOf: [managerOf('source')], requester: true },
};

/** Roles in ascending power: a role includes everything the roles before it may do. */
const ROLE_RANK: ReadonlyMap<Role, number> = new Map([
  ['viewer', 0],
  ['clerk', 1],
  ['manager', 2],
  ['admin', 3],
]);

export function hasRoleAtLeast(claims: Pick<AccessClaims, 'roles'>, role: Role): boolean {
  const needed = ROLE_RANK.get(role)!;
  return claims.roles.some((held) => (ROLE_RANK.get(held) ?? -1) >= needed);
}

type Ends = Pick<TransferState, 'sourceWarehouseId' | 'destinationWarehouseId'>;

function warehouseOf(transfer: Ends, side: TransferSide): string {
  return side === 'source' ? transfer.sourceWarehouseId : transfer.destinationWarehouseId;
}

function meets(claims: AccessClaims, transfer: Ends, requirement: SideRequirement): boolean {
  return (
    canSeeWarehouse(claims, warehouseOf(transfer, requirement.side)) &&
    hasRoleAtLeast(claims, requirement.role)
  );
}

/** Who asks, about which transfer (`createdBy` is absent for a transfer not yet requested). */
export interface PermissionQuestion {
  claims: AccessClaims;
  command: TransferCommand;
  transfer: Ends & { createdBy?: string };
  /** TRANSFER_SEPARATE_APPROVER: the requester may not approve their own request. */
  separateApprover?: boolean;
}

export function isAllowed(question: PermissionQuestion): boolean {
  const { claims, command, transfer } = question;
  const rule = TRANSFER_PERMISSIONS[command];
  if (rule.anyOf.some((requirement) => meets(claims, transfer, requirement))) return true;
  return (
    rule.requester === true &&
    transfer.createdBy === claims.sub &&
    isAllowed({ claims, command: 'request', transfer })
  );
}

function describe(requirement: SideRequirement, transfer: Ends): string {
  return `${requirement.role} of ${warehouseOf(transfer, requirement.side)} (the ${requirement.side})`;
}

/**
 * Refuses a command the matrix does not allow with 403 FORBIDDEN, naming what was missing: the warehouse,
 * its side and the role (in `details.required` when several would do).
 */
export function assertAllowed(question: PermissionQuestion): void {
  const { claims, command, transfer } = question;
  if (command === 'approve' && question.separateApprover && transfer.createdBy === claims.sub) {
    throw new DomainError(
      'FORBIDDEN',
      'the requester of a transfer may not approve it (TRANSFER_SEPARATE_APPROVER); another manager of the source must',
      {
        action: command,
        reason: 'SEPARATE_APPROVER',
        requester: transfer.createdBy,
        warehouseId: transfer.sourceWarehouseId,
        side: 'source',
        role: 'manager',
      },
    );
  }
  if (isAllowed(question)) return;
  const rule = TRANSFER_PERMISSIONS[command];
  const required = rule.anyOf.map((requirement) => ({
    side: requirement.side,
    warehouseId: warehouseOf(transfer, requirement.side),
    role: requirement.role,
  }));
  const needs = rule.anyOf.map((requirement) => describe(requirement, transfer)).join(' or a ');
  const alternative = rule.requester ? ', or the requester' : '';
  throw new DomainError('FORBIDDEN', `${command} needs a ${needs}${alternative}`, {
    action: command,
    warehouseId: required[0]!.warehouseId,
    side: required[0]!.side,
    role: required[0]!.role,
    required,
    ...(rule.requester ? { requesterMay: true } : {}),
  });
}
