export * from './backoff.js';
export * from './client.js';
export * from './dedupe.js';
export type * from './types.js';
