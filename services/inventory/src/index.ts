export { BatchExpiryScanner, type BatchExpiryScannerOptions } from './app/batch-scanner.js';
export { TransferSagaHandler } from './app/transfer-saga.js';
export { InventoryConfig, loadInventoryConfig } from './config.js';
export {
  type InventoryService,
  inventoryMigrations,
  migrateInventoryDatabase,
  type StartOptions,
  startInventoryService,
} from './service.js';
