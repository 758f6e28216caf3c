import { Migration20261201000000_webhooks } from './Migration20261201000000_webhooks.js';

/**
 * The webhooks database's migrations, oldest first. A new migration is a new file in this folder and a new
 * line at the end of this list; MikroORM records each applied one by its name.
 */
export const WEBHOOK_MIGRATIONS = [
  { name: 'Migration20261201000000_webhooks', class: Migration20261201000000_webhooks },
];
