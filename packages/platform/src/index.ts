// The shared infrastructure of the services: only what a service uses is exported.
// The auth and context plugins declare `request.claims` and `request.correlationId` for route handlers.
import './http/plugins/auth.js';
import './http/plugins/context.js';

export { AuthError, authSettingsFrom, bearerToken, createTokenVerifier, type TokenVerifier } from './auth.js';
export type { Caller } from './caller.js';
export { clusterWorkerIndex } from './cluster.js';
export { assertExpectedVersion, ConcurrencyConflict, staleVersion } from './concurrency.js';
export { BaseConfig, ConfigError, loadConfig, natsServers, requireAuthSettings } from './config.js';
export { DatabaseUnreachableError } from './db/database.js';
export { createOrm, migrateDatabase, type Orm } from './db/orm.js';
export { InfrastructureError, type InfrastructureErrorCode } from './errors.js';
export { type CommandRunnerOptions, callerOf, commandRunner } from './http/command-route.js';
export { decodePageCursor, keysetPage } from './http/pagination.js';
export { requestLogPlugin } from './http/plugins/request-log.js';
export { ReadGate } from './http/read-gate.js';
export {
  actorOf,
  assertWarehouseAccess,
  expectedVersionFrom,
  idempotencyFrom,
  sendOutcome,
} from './http/request.js';
export { type AppServer, createHttpServer, trustedJsonSerializer } from './http/server.js';
export { type CommandRouteOptions, runCommand } from './idempotency/command.js';
export { InboxConsumer, type InboxContext } from './inbox/consumer.js';
export { PermanentEventError } from './inbox/dead-letters.js';
export { createLogger } from './logger.js';
export { TablePurger } from './maintenance/table-purger.js';
export { counter, createMetricsRegistry, gauge, histogram } from './metrics.js';
export { connectNats, NatsUnreachableError } from './nats/connect.js';
export { type RetentionPressure, RetentionWatch, retentionPressure } from './nats/retention.js';
export { nextStoredSeq } from './nats/stream-end.js';
export {
  ensureDeadLettersStream,
  ensureDurableConsumer,
  ensureEventsStream,
  eventsStreamConfig,
  isStreamNotFound,
} from './nats/streams.js';
export { registerOutboxGauges } from './outbox/metrics.js';
export { OutboxRelay, type Relay, relayLockKey } from './outbox/relay.js';
export { RelayThread } from './outbox/relay-thread.js';
export { appendToOutbox, OUTBOX_NOTIFY_CHANNEL } from './outbox/writer.js';
export { sleep, withTimeout } from './retry.js';
export {
  closeConnections,
  closeNats,
  connectEventBus,
  databaseAndNatsReadiness,
  listenOn,
  runServiceMain,
  streamRestorer,
} from './runtime.js';
export { PeriodicJob, type PeriodicJobOptions, type Worker } from './service/periodic-job.js';
export {
  migrateServiceDatabase,
  type RunningService,
  type ServiceConfig,
  type ServiceDefinition,
  type ServiceParts,
  type SharedParts,
  type StartServiceOptions,
  startService,
} from './service/start-service.js';
export { gracefulShutdown } from './shutdown.js';
