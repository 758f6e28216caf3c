import { Migration20261122200000_transfer } from './Migration20261122200000_transfer.js';

/**
 * The transfer database's migrations, oldest first. A new migration is a new file in this folder and a new
 * line at the end of this list; MikroORM records each applied one by its name.
 */
export const TRANSFER_MIGRATIONS = [
  { name: 'Migration20261122200000_transfer', class: Migration20261122200000_transfer },
];
