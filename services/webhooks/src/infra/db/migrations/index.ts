import { Migration20261201000000_webhooks } from './Migration20261201000000_webhooks.js';
import { Migration20261216000000_webhook_endpoint_version } from './Migration20261216000000_webhook_endpoint_version.js';

/**
 * The webhooks database's migrations, oldest first. A new migration is a new file in this folder and a new
 * line at the end of this list; MikroORM records each applied one by its name.
 */
export const WEBHOOK_MIGRATIONS = [
  { name: 'Migration20261201000000_webhooks', class: Migration20261201000000_webhooks },
  {
    name: 'Migration20261216000000_webhook_endpoint_version',
    class: Migration20261216000000_webhook_endpoint_version,
  },
];
