import { Migration20261122100000_inventory } from './Migration20261122100000_inventory.js';
import { Migration20261128000000_batch_remaining } from './Migration20261128000000_batch_remaining.js';
import { Migration20261201020000_read_indexes } from './Migration20261201020000_read_indexes.js';
import { Migration20261201040000_order_reservations } from './Migration20261201040000_order_reservations.js';
import { Migration20261201060000_stock_key_order } from './Migration20261201060000_stock_key_order.js';

/**
 * The inventory database's migrations, oldest first. A new migration is a new file in this folder and a new
 * line at the end of this list; MikroORM records each applied one by its name.
 */
export const INVENTORY_MIGRATIONS = [
  { name: 'Migration20261122100000_inventory', class: Migration20261122100000_inventory },
  { name: 'Migration20261128000000_batch_remaining', class: Migration20261128000000_batch_remaining },
  { name: 'Migration20261201020000_read_indexes', class: Migration20261201020000_read_indexes },
  { name: 'Migration20261201040000_order_reservations', class: Migration20261201040000_order_reservations },
  { name: 'Migration20261201060000_stock_key_order', class: Migration20261201060000_stock_key_order },
];
