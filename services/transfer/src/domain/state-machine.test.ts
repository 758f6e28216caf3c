import {
  DomainError,
  type TransferStatus as Status,
  TRANSFER_ACTIONS,
  type TransferAction,
  TransferStatus,
} from '@inv/contracts';
import { describe, expect, it } from 'vitest';
import { CALLER_MAY } from '../../test/expected-workflow.js';
import { allowedActions, assertTransition, canTransition, TERMINAL_STATUSES } from './state-machine.js';

const STATUSES = TransferStatus.options;
const ACTIONS = Object.keys(TRANSFER_ACTIONS) as TransferAction[];

function refusal(from: Status, action: TransferAction, by: 'caller' | 'system' = 'caller'): DomainError {
  try {
    assertTransition(from, action, by);
  } catch (error) {
    if (error instanceof DomainError) return error;
    throw error;
  }
  throw new Error(`${action} from ${from} was allowed`);
}

describe('transfer state machine', () => {
  for (const from of STATUSES) {
    for (const action of ACTIONS) {
      const allowed = CALLER_MAY[from].includes(action);
      it(`${allowed ? 'allows' : 'refuses'} a caller to ${action} a ${from} transfer`, () => {
        if (allowed) {
          expect(() => assertTransition(from, action)).not.toThrow();
          return;
        }
        const error = refusal(from, action);
        expect(error.code).toBe('INVALID_TRANSITION');
        expect(error.message).toContain(from);
        expect(error.details).toEqual({
          currentStatus: from,
          action,
          targetStatus: TRANSFER_ACTIONS[action],
          allowedActions: CALLER_MAY[from],
        });
      });
    }
  }

  it('lets only the system reject an approved transfer (the source lacked stock)', () => {
    expect(canTransition('approved', 'rejected', 'system')).toBe(true);
    expect(canTransition('approved', 'rejected', 'caller')).toBe(false);
    expect(refusal('approved', 'reject').code).toBe('INVALID_TRANSITION');
  });

  it('gives the system no other transition', () => {
    const systemMoves = STATUSES.flatMap((from) =>
      STATUSES.filter((to) => canTransition(from, to, 'system')).map((to) => `${from}->${to}`),
    );
    expect(systemMoves).toEqual(['approved->rejected']);
  });

  it('never cancels once shipped', () => {
    for (const from of ['shipped', 'received', 'completed'] as const) {
      expect(refusal(from, 'cancel').details?.currentStatus).toBe(from);
    }
  });

  it('knows completed, rejected and cancelled as final and lists the actions of each status', () => {
    expect([...TERMINAL_STATUSES].sort()).toEqual(['cancelled', 'completed', 'rejected']);
    for (const status of STATUSES) expect(allowedActions(status)).toEqual(CALLER_MAY[status]);
    expect(refusal('completed', 'approve').message).toContain('final');
  });
});
