import { type AccessClaims, DomainError, type Role, TRANSFER_ACTIONS } from '@inv/contracts';
import { describe, expect, it } from 'vitest';
import { assertAllowed, isAllowed, TRANSFER_PERMISSIONS, type TransferCommand } from './permissions.js';

const transfer = { sourceWarehouseId: 'A', destinationWarehouseId: 'B', createdBy: 'requester' };
const COMMANDS = Object.keys(TRANSFER_PERMISSIONS) as TransferCommand[];
const ROLES: Role[] = ['viewer', 'clerk', 'manager', 'admin'];
const WAREHOUSE_CLAIMS: Record<string, string[]> = {
  none: ['C'],
  source: ['A'],
  destination: ['B'],
  both: ['A', 'B'],
  all: ['*'],
};

/** The matrix as docs/security.md states it, written independently of the table under test. */
function expected(command: TransferCommand, warehouses: string, role: Role, requester: boolean): boolean {
  const atSource = warehouses === 'source' || warehouses === 'both' || warehouses === 'all';
  const atDestination = warehouses === 'destination' || warehouses === 'both' || warehouses === 'all';
  const clerk = role !== 'viewer';
  const manager = role === 'manager' || role === 'admin';
  switch (command) {
    case 'request':
      return clerk && (atSource || atDestination);
    case 'approve':
    case 'reject':
      return manager && atSource;
    case 'start-picking':
    case 'pack':
    case 'ship':
      return clerk && atSource;
    case 'receive':
    case 'complete':
      return clerk && atDestination;
    case 'cancel':
      return (manager && atSource) || (requester && clerk && (atSource || atDestination));
  }
}

const cases = COMMANDS.flatMap((command) =>
  Object.keys(WAREHOUSE_CLAIMS).flatMap((warehouses) =>
    ROLES.flatMap((role) => [false, true].map((requester) => ({ command, warehouses, role, requester }))),
  ),
);

function claimsOf(warehouses: string, role: Role, requester: boolean): AccessClaims {
  return {
    sub: requester ? 'requester' : 'someone-else',
    warehouses: WAREHOUSE_CLAIMS[warehouses]!,
    roles: [role],
  };
}

function refusal(run: () => void): DomainError {
  try {
    run();
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error('allowed');
}

describe('transfer permission matrix', () => {
  it('has a rule for requesting and for every REST action', () => {
    expect(COMMANDS.sort()).toEqual(['request', ...Object.keys(TRANSFER_ACTIONS)].sort());
  });

  it(`decides all ${cases.length} combinations of command, warehouse claims, role and requester as documented`, () => {
    const wrong = cases.filter(
      ({ command, warehouses, role, requester }) =>
        isAllowed({ claims: claimsOf(warehouses, role, requester), command, transfer }) !==
        expected(command, warehouses, role, requester),
    );
    expect(wrong).toEqual([]);
    // The combinations cover both answers for every command.
    for (const command of COMMANDS) {
      const answers = new Set(
        cases
          .filter((c) => c.command === command)
          .map((c) => expected(c.command, c.warehouses, c.role, c.requester)),
      );
      expect(answers).toEqual(new Set([true, false]));
    }
  });

  it('throws exactly when it does not allow, with FORBIDDEN', () => {
    for (const { command, warehouses, role, requester } of cases) {
      const question = { claims: claimsOf(warehouses, role, requester), command, transfer };
      if (isAllowed(question)) expect(() => assertAllowed(question)).not.toThrow();
      else expect(refusal(() => assertAllowed(question)).code).toBe('FORBIDDEN');
    }
  });

  it('names the warehouse, its side and the role a B-only manager lacks to approve an A→B transfer', () => {
    const error = refusal(() =>
      assertAllowed({
        claims: { sub: 'm', warehouses: ['B'], roles: ['manager'] },
        command: 'approve',
        transfer,
      }),
    );
    expect(error.message).toBe('approve needs a manager of A (the source)');
    expect(error.details).toEqual({
      action: 'approve',
      warehouseId: 'A',
      side: 'source',
      role: 'manager',
      required: [{ side: 'source', warehouseId: 'A', role: 'manager' }],
    });
  });

  it('lists every way to be allowed when several would do', () => {
    const request = refusal(() =>
      assertAllowed({
        claims: { sub: 'v', warehouses: ['A', 'B'], roles: ['viewer'] },
        command: 'request',
        transfer,
      }),
    );
    expect(request.details?.required).toEqual([
      { side: 'destination', warehouseId: 'B', role: 'clerk' },
      { side: 'source', warehouseId: 'A', role: 'clerk' },
    ]);
    const cancel = refusal(() =>
      assertAllowed({
        claims: { sub: 'c', warehouses: ['B'], roles: ['clerk'] },
        command: 'cancel',
        transfer,
      }),
    );
    expect(cancel.message).toBe('cancel needs a manager of A (the source), or the requester');
    expect(cancel.details).toMatchObject({ warehouseId: 'A', role: 'manager', requesterMay: true });
  });

  describe('separate approver (TRANSFER_SEPARATE_APPROVER)', () => {
    const requesterManager: AccessClaims = { sub: 'requester', warehouses: ['*'], roles: ['admin'] };

    it('refuses the requester approving their own request, even with every warehouse', () => {
      const error = refusal(() =>
        assertAllowed({ claims: requesterManager, command: 'approve', transfer, separateApprover: true }),
      );
      expect(error.code).toBe('FORBIDDEN');
      expect(error.details).toMatchObject({ reason: 'SEPARATE_APPROVER', warehouseId: 'A', role: 'manager' });
    });

    it('lets another manager of the source approve, and the requester reject or cancel', () => {
      const other = { ...requesterManager, sub: 'other' };
      expect(() =>
        assertAllowed({ claims: other, command: 'approve', transfer, separateApprover: true }),
      ).not.toThrow();
      for (const command of ['reject', 'cancel'] as const) {
        expect(() =>
          assertAllowed({ claims: requesterManager, command, transfer, separateApprover: true }),
        ).not.toThrow();
      }
    });

    it('is off unless configured', () => {
      expect(() => assertAllowed({ claims: requesterManager, command: 'approve', transfer })).not.toThrow();
    });
  });
});
