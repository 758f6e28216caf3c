import { runServiceMain } from '@inv/platform';
import { loadWebhooksConfig } from './config.js';
import { startWebhooksService } from './service.js';

runServiceMain(
  'webhooks',
  () => loadWebhooksConfig(),
  (config, logger) => startWebhooksService(config, { logger }),
);
