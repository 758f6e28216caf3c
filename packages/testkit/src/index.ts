// Test helpers shared by every package's tests.
export { sampleEvent, VALID_DATA } from './event-samples.js';
export { badTokens, HOSTILE_IDS, hostileId, mostlyValid, withStrayField } from './hostile.js';
export { fetchJson, isClearRefusal, type JsonReply, metricValue, rawJson, rawRequest } from './http.js';
export { testLogger } from './logger.js';
export { NatsCluster, NatsServer, natsServerBinary } from './nats-server.js';
export { eventually, freePort } from './ports.js';
export { createTestDatabase, PostgresServer, type TestDatabase } from './postgres.js';
export { type Spawned, spawnServer, stopChild } from './processes.js';
export { type SeededRandom, seededRandom } from './random.js';
export {
  type EventsCluster,
  publishMany,
  restartFollowerBehind,
  startEventsCluster,
} from './replica-behind.js';
export { ServiceProcess } from './service-process.js';
export { type Stack, startStack } from './stack.js';
export { type StockRecord, stockRecordSubject, stockUpdatedEvent, stockUpdatedJson } from './stock-events.js';
export { readStoredEvents, type StoredEvent } from './stream.js';
export { startTestNats, type TestNats } from './test-nats.js';
export { mintToken, TEST_JWT_SECRET } from './tokens.js';
export { TestWsClient, type TestWsClientOptions, type WsFrame } from './ws-client.js';
