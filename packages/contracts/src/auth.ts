import { z } from 'zod';
import { Id } from './ids.js';

/**
 * Roles grant actions; warehouse claims confine what a caller sees and changes. `*` means every warehouse.
 * The same claims are read by the REST services and the gateway.
 */
export const Role = z.enum(['viewer', 'clerk', 'manager', 'admin']);
export type Role = z.infer<typeof Role>;

export const ALL_WAREHOUSES = '*';

export const AccessClaims = z.object({
  sub: z.string().min(1).max(128),
  warehouses: z.array(z.union([Id, z.literal(ALL_WAREHOUSES)])).max(1000),
  roles: z.array(Role).default(['viewer']),
});
export type AccessClaims = z.infer<typeof AccessClaims>;

export type Permission =
  | 'inventory:read'
  | 'inventory:adjust'
  | 'transfer:read'
  | 'transfer:request'
  | 'transfer:decide'
  | 'transfer:handle'
  | 'events:read';

const VIEW: Permission[] = ['inventory:read', 'transfer:read', 'events:read'];
const HANDLE: Permission[] = [...VIEW, 'inventory:adjust', 'transfer:request', 'transfer:handle'];
const DECIDE: Permission[] = [...HANDLE, 'transfer:decide'];
const ROLE_PERMISSIONS: Record<Role, Permission[]> = {
  viewer: VIEW,
  clerk: HANDLE,
  manager: DECIDE,
  admin: DECIDE,
};

export function hasPermission(claims: Pick<AccessClaims, 'roles'>, permission: Permission): boolean {
  return claims.roles.some((role) => ROLE_PERMISSIONS[role].includes(permission));
}

export function canSeeWarehouse(claims: Pick<AccessClaims, 'warehouses'>, warehouseId: string): boolean {
  return claims.warehouses.includes(ALL_WAREHOUSES) || claims.warehouses.includes(warehouseId);
}

export function seesAllWarehouses(claims: Pick<AccessClaims, 'warehouses'>): boolean {
  return claims.warehouses.includes(ALL_WAREHOUSES);
}
