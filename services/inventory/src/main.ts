import { runServiceMain } from '@inv/platform';
import { loadInventoryConfig } from './config.js';
import { startInventoryService } from './service.js';

runServiceMain(
  'inventory',
  () => loadInventoryConfig(),
  (config, logger) => startInventoryService(config, { logger }),
);
