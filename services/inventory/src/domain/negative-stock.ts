import { type AccessClaims, DomainError, type Role } from '@inv/contracts';

/** Roles that may book stock below zero: a count the system cannot check is a manager's call. */
const MAY_GO_NEGATIVE: readonly Role[] = ['manager', 'admin'];

/** `allowNegative` lets an `out` take more than is available; only a manager may ask for it. */
export function assertMayAllowNegative(
  claims: Pick<AccessClaims, 'roles'>,
  request: { allowNegative?: boolean },
): void {
  if (request.allowNegative !== true) return;
  if (claims.roles.some((role) => MAY_GO_NEGATIVE.includes(role))) return;
  throw new DomainError(
    'FORBIDDEN',
    'allowNegative needs the manager role',
    { role: 'manager', reason: 'ALLOW_NEGATIVE' },
    'allowNegative',
  );
}
