import { runServiceMain } from '@inv/platform';
import { loadTransferConfig } from './config.js';
import { startTransferService } from './service.js';

runServiceMain(
  'transfer',
  () => loadTransferConfig(),
  (config, logger) => startTransferService(config, { logger }),
);
