export * from './app/bridge.js';
export * from './config.js';
export * from './domain/endpoint.js';
export * from './domain/retry.js';
export * from './domain/signature.js';
export * from './domain/url.js';
export * from './service.js';
