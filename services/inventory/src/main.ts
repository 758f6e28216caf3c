import {
  ConfigError,
  createLogger,
  DatabaseUnreachableError,
  gracefulShutdown,
  NatsUnreachableError,
} from '@inv/platform';
import { loadInventoryConfig } from './config.js';
import { startInventoryService } from './service.js';

async function main(): Promise<void> {
  const config = loadInventoryConfig();
  const logger = createLogger('inventory', config.LOG_LEVEL);
  const service = await startInventoryService(config, { logger });
  gracefulShutdown(logger, config.SHUTDOWN_TIMEOUT_MS, [
    { name: 'inventory service', run: () => service.stop() },
  ]);
}

main().catch((error: unknown) => {
  const known =
    error instanceof ConfigError ||
    error instanceof DatabaseUnreachableError ||
    error instanceof NatsUnreachableError;
  console.error(known ? `inventory failed to start: ${(error as Error).message}` : error);
  process.exit(1);
});
