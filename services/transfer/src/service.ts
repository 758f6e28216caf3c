import { DURABLE_CONSUMERS } from '@inv/contracts';
import {
  migrateServiceDatabase,
  type RunningService,
  type ServiceDefinition,
  type StartServiceOptions,
  startService,
} from '@inv/platform';
import type { Logger } from 'pino';
import { reservationAnswerHandler } from './app/reservation-answers.js';
import type { TransferConfig } from './config.js';
import { TRANSFER_ENTITIES } from './infra/db/entities.js';
import { TRANSFER_MIGRATIONS } from './infra/db/migrations/index.js';
import { transferRoutes } from './infra/http/transfer-routes.js';

export const transferMigrations = TRANSFER_MIGRATIONS;

export type TransferService = RunningService;
export type StartOptions = StartServiceOptions;

/** Transfers between warehouses; learns the outcome of inventory's reservations. */
const transferDefinition: ServiceDefinition<TransferConfig, object> = {
  name: 'transfer',
  entities: TRANSFER_ENTITIES,
  migrations: transferMigrations,
  docs: {
    title: 'Transfer service',
    description: 'Transfers between warehouses: the workflow state machine and the saga with inventory.',
  },
  inbox: { durable: DURABLE_CONSUMERS.transferReservations, handler: reservationAnswerHandler },
  parts: ({ config, orm, notify }) => ({
    routes: async (app) => {
      await app.register(transferRoutes, {
        orm,
        notify,
        policy: { separateApprover: config.TRANSFER_SEPARATE_APPROVER },
      });
    },
    exposed: {},
  }),
};

/** Creates the database if needed and applies pending migrations (platform tables first); returns their names. */
export function migrateTransferDatabase(config: TransferConfig, logger?: Logger): Promise<string[]> {
  return migrateServiceDatabase(transferDefinition, config, logger);
}

/** Starts HTTP, the outbox relay, the consumer of inventory's reservation answers and the periodic purges. */
export function startTransferService(
  config: TransferConfig,
  options: StartOptions = {},
): Promise<TransferService> {
  return startService(transferDefinition, config, options);
}
