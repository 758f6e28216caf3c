export * from './consumer.js';
export * from './filter.js';
export * from './processed.js';
