export * from './choose-source.js';
export * from './config.js';
export * from './reorder.js';
