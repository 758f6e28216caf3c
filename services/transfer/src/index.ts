export { loadTransferConfig, TransferConfig } from './config.js';
export {
  migrateTransferDatabase,
  type StartOptions,
  startTransferService,
  type TransferService,
  transferMigrations,
} from './service.js';
