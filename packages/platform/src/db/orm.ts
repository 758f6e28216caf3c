import type { EntitySchema, MigrationObject } from '@mikro-orm/core';
import { Migrator } from '@mikro-orm/migrations';
import { MikroORM, PostgreSqlDriver } from '@mikro-orm/postgresql';
import pg from 'pg';
import type { Logger } from 'pino';
import { IdempotencyRecordSchema } from '../idempotency/idempotency.entity.js';
import { InboxEntrySchema } from '../inbox/inbox.entity.js';
import { PLATFORM_MIGRATIONS } from '../migrations/index.js';
import { OutboxMessageSchema } from '../outbox/outbox.entity.js';
import { DatabaseUnreachableError, ensureDatabase } from './database.js';

export type Orm = MikroORM;
export const PLATFORM_ENTITIES = [OutboxMessageSchema, InboxEntrySchema, IdempotencyRecordSchema];

export interface OrmOptions {
  url: string;
  // biome-ignore lint/suspicious/noExplicitAny: entity schemas of any entity type
  entities: EntitySchema<any, any>[];
  /** The service's migrations; the platform tables' migration runs first. */
  migrations: MigrationObject[];
  logger: Logger;
  poolSize?: number;
  /** Bound on waiting for a pooled connection, so a database outage answers 503 instead of hanging. */
  acquireTimeoutMs?: number;
  statementTimeoutMs?: number;
  /** PostgreSQL settings of every pooled session (sent when it connects, no extra round trip). */
  sessionSettings?: Record<string, string>;
}

/** `-c name=value …` for a connection's startup `options`; undefined when there are none. */
function startupOptions(settings: Record<string, string> | undefined): string | undefined {
  const entries = Object.entries(settings ?? {});
  return entries.length > 0 ? entries.map(([name, value]) => `-c ${name}=${value}`).join(' ') : undefined;
}

export async function createOrm(options: OrmOptions): Promise<Orm> {
  const logger = options.logger.child({ component: 'orm' });
  try {
    return await MikroORM.init({
      driver: PostgreSqlDriver,
      clientUrl: options.url,
      entities: [...PLATFORM_ENTITIES, ...options.entities],
      extensions: [Migrator],
      migrations: {
        migrationsList: [...PLATFORM_MIGRATIONS, ...options.migrations],
        transactional: true,
        allOrNothing: true,
        snapshot: false,
        tableName: 'mikro_orm_migrations',
      },
      discovery: { requireEntitiesArray: true, disableDynamicFileAccess: true, warnWhenNoEntities: false },
      pool: { min: 0, max: options.poolSize ?? 10, acquireTimeoutMillis: options.acquireTimeoutMs ?? 5_000 },
      driverOptions: {
        acquireConnectionTimeout: options.acquireTimeoutMs ?? 5_000,
        connection: {
          statement_timeout: options.statementTimeoutMs ?? 15_000,
          connectionTimeoutMillis: 5_000,
          options: startupOptions(options.sessionSettings),
        },
      },
      forceUtcTimezone: true,
      allowGlobalContext: false,
      debug: false,
      logger: (message: string) => logger.debug(message),
    });
  } catch (error) {
    throw new DatabaseUnreachableError(options.url, error);
  }
}

/** Arbitrary but fixed: every instance of every service migrating the same database takes the same lock. */
const MIGRATION_LOCK_KEY = 7_311_004_201;

/**
 * Creates the database if missing and applies every pending migration. Instances starting together take turns
 * (a session advisory lock), so the second finds nothing left to apply instead of failing on existing tables.
 */
export async function migrateDatabase(options: OrmOptions): Promise<string[]> {
  await ensureDatabase(options.url);
  const lock = new pg.Client({ connectionString: options.url });
  await lock.connect();
  try {
    await lock.query('select pg_advisory_lock($1)', [MIGRATION_LOCK_KEY]);
    const orm = await createOrm({ ...options, poolSize: 2 });
    try {
      const applied = await orm.getMigrator().up();
      return applied.map((m) => m.name);
    } finally {
      await orm.close(true);
    }
  } finally {
    // Closing the session releases the lock.
    await lock.end().catch(() => undefined);
  }
}
