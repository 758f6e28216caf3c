import type { TransferAction, TransferEventType, TransferStatus } from '@inv/contracts';

/**
 * The workflow as the issue states it, written out independently of the service's transition table so tests
 * can hold the table to it: what a caller may do in each status.
 */
export const CALLER_MAY: Record<TransferStatus, TransferAction[]> = {
  requested: ['approve', 'reject', 'cancel'],
  approved: ['start-picking', 'cancel'],
  picking_started: ['pack', 'cancel'],
  packed: ['ship', 'cancel'],
  shipped: ['receive'],
  received: ['complete'],
  completed: [],
  rejected: [],
  cancelled: [],
};

/** The events of a transfer that goes all the way, in order. */
export const HAPPY_PATH_EVENTS: TransferEventType[] = [
  'transfer.requested',
  'transfer.approved',
  'transfer.stock_reserved',
  'transfer.picking_started',
  'transfer.packed',
  'transfer.shipped',
  'transfer.received',
  'transfer.completed',
];
