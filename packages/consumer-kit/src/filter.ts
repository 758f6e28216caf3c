import {
  ALL_WAREHOUSES,
  type DomainEvent,
  type EventType,
  parseSubject,
  subjectOf,
  warehousesOfSubject,
} from '@inv/contracts';
import { subjectPatternOf } from '@inv/contracts/internal';

export interface EventSelection {
  types: EventType[];
  /** Warehouse ids, or omitted / `['*']` for every warehouse. */
  warehouses?: string[];
}

/**
 * The one server-side filter subject for a selection (NATS 2.9 allows one per consumer): the narrowest subject
 * that still covers every chosen type and warehouse. What it lets through beyond the selection is dropped by
 * `selects` on the client, so one durable consumer keeps one position and one order for the whole selection.
 */
export function filterSubjectFor(selection: EventSelection): string {
  const patterns = selection.types.map((t) => subjectPatternOf(t).address.split('.'));
  const warehouses = selection.warehouses?.filter((w) => w !== ALL_WAREHOUSES) ?? [];
  const everyWarehouse = warehouses.length === 0 || (selection.warehouses ?? []).includes(ALL_WAREHOUSES);
  const length = patterns[0]?.length;
  if (!length || patterns.some((p) => p.length !== length)) return '>';
  const tokens = patterns[0]!.map((token, i) => {
    if (patterns.some((p) => p[i] !== token)) return '*';
    if (token === '{warehouseId}' && !everyWarehouse && warehouses.length === 1) return warehouses[0]!;
    return token.startsWith('{') ? '*' : token;
  });
  // A trailing run of wildcards is one `>`.
  while (tokens.length > 1 && tokens.at(-1) === '*' && tokens.at(-2) === '*') tokens.pop();
  if (tokens.at(-1) === '*') tokens[tokens.length - 1] = '>';
  return tokens.join('.');
}

/** Whether a decoded event belongs to the selection (its type, and a chosen warehouse when warehouses are named). */
export function selects(selection: EventSelection, event: DomainEvent): boolean {
  if (!selection.types.includes(event.type)) return false;
  const warehouses = selection.warehouses ?? [ALL_WAREHOUSES];
  if (warehouses.includes(ALL_WAREHOUSES)) return true;
  const parsed = parseSubject(subjectOf(event));
  return !!parsed && warehousesOfSubject(parsed).some((w) => warehouses.includes(w));
}
