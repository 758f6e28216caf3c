export * from './backoff.js';
export * from './client.js';
export * from './dedupe.js';
export * from './reservations.js';
export type * from './types.js';
