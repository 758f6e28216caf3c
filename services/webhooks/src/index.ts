export { loadWebhooksConfig, WebhooksConfig } from './config.js';
export { type Endpoint, type EndpointState, endpointWants } from './domain/endpoint.js';
export { type RetryPolicy, retryDelay } from './domain/retry.js';
export {
  type SignatureCheck,
  signWebhook,
  verifyWebhook,
  WEBHOOK_HEADERS,
  WEBHOOK_TOLERANCE_MS,
} from './domain/signature.js';
export { checkWebhookUrl, type UrlCheck } from './domain/url.js';
export {
  type PublicEndpoint,
  publicEndpoint,
  type RegisterEndpoint,
  WebhookBridge,
} from './infra/nats/bridge.js';
export { migrateWebhooksDatabase, startWebhooksService, type WebhooksService } from './service.js';
