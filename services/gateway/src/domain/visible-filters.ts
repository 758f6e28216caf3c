import { type Channel, channelFilters } from '@inv/contracts';
import type { WarehouseScope } from './access.js';

/**
 * The subject filters of the events of a channel a caller may see: the channel's filters intersected with
 * those of each claimed warehouse. Null for a caller that sees every warehouse (nothing to hide from it).
 */
export function visibleFilters(channel: Channel, scope: WarehouseScope): string[] | null {
  if (scope.all) return null;
  const filters = new Set<string>();
  for (const warehouseId of scope.warehouses) {
    for (const own of channelFilters({ kind: 'warehouse', warehouseId })) {
      for (const filter of channelFilters(channel)) {
        const both = intersectFilters(filter, own);
        if (both) filters.add(both);
      }
    }
  }
  return [...filters];
}

/** The subjects matching both NATS filters, as one filter; null when no subject matches both. */
export function intersectFilters(a: string, b: string): string | null {
  const left = a.split('.');
  const right = b.split('.');
  const out: string[] = [];
  for (let i = 0; ; i++) {
    const x = left[i];
    const y = right[i];
    if (x === undefined || y === undefined) return x === y ? out.join('.') : null;
    // `>` stands for one token or more.
    if (x === '>') return [...out, ...right.slice(i)].join('.');
    if (y === '>') return [...out, ...left.slice(i)].join('.');
    if (x === '*') out.push(y);
    else if (y === '*' || x === y) out.push(x);
    else return null;
  }
}
