import { Migration20261122000000_platform } from './Migration20261122000000_platform.js';

/**
 * The platform's tables (outbox, inbox, idempotency keys), oldest first; every service applies them before its
 * own (`createOrm`). A new migration is a new file in this folder and a new line at the end of this list;
 * MikroORM records each applied one by its name.
 */
export const PLATFORM_MIGRATIONS = [
  { name: 'Migration20261122000000_platform', class: Migration20261122000000_platform },
];
