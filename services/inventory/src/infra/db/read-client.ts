import type { Orm } from '@inv/platform';
import type pg from 'pg';
import type { SqlClient } from './sql-client.js';

/** The part of knex's client the reads use: its pool of `pg` connections. */
interface PooledConnections {
  acquireConnection(): Promise<pg.Client>;
  releaseConnection(connection: pg.Client): Promise<unknown>;
}

/**
 * The hot GETs, as plain `pg` statements on a connection of the ORM's pool (DB_POOL_SIZE, which the read gate
 * stays below): no entity manager, query builder or hydration per request — that was most of a read's CPU in
 * the profiles — and a named statement is parsed and planned once per connection. Name only statements whose
 * plan does not depend on the values (key lookups, keyset walks): a prepared statement may switch to a generic
 * plan after five runs, which for an aggregate over a skewed column (a unit holding half the catalogue, or ten
 * records) would be right for one value and a full scan for the other.
 */
export function ormPoolReadClient(orm: Orm): SqlClient {
  const pool = orm.em.getDriver().getConnection().getKnex().client as PooledConnections;
  return {
    autocommit: true,
    async query<T>(text: string, values: unknown[], name?: string) {
      const connection = await pool.acquireConnection();
      try {
        const result = await connection.query({ text, values, name });
        return result.rows as T[];
      } finally {
        await pool.releaseConnection(connection);
      }
    },
  };
}
