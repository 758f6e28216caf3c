import { pino } from 'pino';
import { loadReorderConfig } from './config.js';
import { createDatabaseIfMissing } from './database.js';
import { startReorderService } from './reorder.js';

const config = loadReorderConfig();
const logger = pino({ name: 'example-reorder', level: config.LOG_LEVEL });
await createDatabaseIfMissing(config.DATABASE_URL);
const service = await startReorderService(config, logger);
logger.info('reorder example consuming inventory.low_stock');
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    void service.stop().then(() => process.exit(0));
  });
}
