import { clusterWorkerIndex, runServiceMain } from '@inv/platform';
import { loadInventoryConfig } from './config.js';
import { migrateInventoryDatabase, startInventoryService } from './service.js';

// With INVENTORY_WORKERS > 1 this process migrates the database once and forks the workers; each worker serves
// the API on the shared port, and worker 0 also runs the periodic scan. The outbox relay runs in every worker
// but publishes only in the one holding its advisory lock.
runServiceMain(
  'inventory',
  () => loadInventoryConfig(),
  (config, logger) => {
    const worker = clusterWorkerIndex();
    return startInventoryService(config, {
      logger,
      migrate: worker === null,
      periodicJobs: worker === null || worker === 0,
    });
  },
  {
    workers: (config) => config.INVENTORY_WORKERS,
    prepare: (config, logger) => migrateInventoryDatabase(config, logger),
  },
);
