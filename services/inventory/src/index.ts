export { BatchExpiryScanner, type BatchExpiryScannerOptions } from './app/batch-scanner.js';
export {
  applyMovement,
  applyMovements,
  type BookedChanges,
  type MovementLine,
  type MovementOutcome,
  tryApplyMovements,
} from './app/movements.js';
export { TransferSagaHandler } from './app/transfer-saga.js';
export { InventoryConfig, loadInventoryConfig } from './config.js';
export { bookMovements, type MovementGroup } from './infra/db/movements.js';
export { BOOK_MOVEMENTS_SQL } from './infra/db/movements-sql.js';
export { entityManagerClient, poolClient, type SqlClient } from './infra/db/sql-client.js';
export {
  type InventoryService,
  inventoryMigrations,
  migrateInventoryDatabase,
  type StartOptions,
  startInventoryService,
} from './service.js';
