// The durable consumer kit for other services (docs/integrating.md).
export { EventConsumer, type EventConsumerOptions, type RetentionGap } from './consumer.js';
export { type EventSelection, filterSubjectFor } from './filter.js';
export { PostgresProcessedEvents, PROCESSED_EVENTS_DDL, type ProcessedEvents } from './processed.js';
