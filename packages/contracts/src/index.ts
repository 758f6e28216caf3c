// The contract between the services and their clients (browsers included: zod only). Named exports, so that
// what is public is a decision; tooling for sibling packages (the AsyncAPI builder) is in `@inv/contracts/internal`.
export {
  AccessClaims,
  ALL_WAREHOUSES,
  canSeeWarehouse,
  hasPermission,
  type Permission,
  Role,
  seesAllWarehouses,
} from './auth.js';
export {
  CHANNEL_KINDS,
  type Channel,
  type ChannelKind,
  channelFilters,
  channelMatchesSubject,
  channelsOfSubject,
  channelWarehouses,
  formatChannel,
  parseChannel,
  WAREHOUSE_ENDPOINT_KINDS,
} from './channels.js';
export { type CursorPosition, decodeCursor, encodeCursor } from './cursor.js';
export { DomainError, ErrorBody, ErrorCode, errorBody } from './errors.js';
export { EVENT_ID_PATTERN, newEventId } from './event-id.js';
export {
  DomainEvent,
  decodeEvent,
  EVENT_CATALOG,
  EVENT_TYPES,
  type EventData,
  type EventOf,
  type EventType,
  isEventType,
  type OrderReservationEventType,
  parseEvent,
  SEED_EVENT_TYPES,
  TRANSFER_EVENT_TYPES,
  type TransferEventType,
} from './events/catalog.js';
export { Location, MovementType, StockKey } from './events/common.js';
export { createEvent, type EventMeta } from './events/factory.js';
export { ReservationReleaseReason } from './events/reservation.js';
export {
  ReservationStatus,
  type TransferEventData,
  TransferLineSnapshot,
  TransferStatus,
} from './events/transfer.js';
export { ABSENT_TOKEN, ID_PATTERN, Id, isValidId } from './ids.js';
export {
  CatalogQuery,
  ProductPage,
  ProductSummary,
  WarehousePage,
  WarehouseSummary,
} from './rest/catalog.js';
export { CONTROL_CHARACTER, isStorableDate, PageQuery, REST_LIMITS, Text } from './rest/common.js';
export {
  AdjustRequest,
  AdjustResponse,
  Batch,
  BatchPage,
  CreateBatchRequest,
  CreateBatchResponse,
  ExpiringBatchesQuery,
  ExpiringBatchesResponse,
  flattenSettingsLocation,
  InventoryListQuery,
  InventoryPage,
  InventoryRecord,
  LowStockQuery,
  LowStockResponse,
  Movement,
  MovementPage,
  ProductStockResponse,
  StockAcrossQuery,
  UomStockResponse,
  UpdateInventorySettingsRequest,
  VariantStockResponse,
  WarehouseStockSummary,
} from './rest/inventory.js';
export {
  CommitReservationRequest,
  CreateReservationRequest,
  ExtendReservationRequest,
  ReleaseReservationRequest,
  Reservation,
  ReservationListQuery,
  ReservationPage,
  ReservationShortage,
  ReservationState,
} from './rest/reservation.js';
export {
  CreateTransferRequest,
  ReasonedTransitionRequest,
  ReceiveTransferRequest,
  TRANSFER_ACTIONS,
  Transfer,
  type TransferAction,
  TransferListQuery,
  TransferPage,
  TransitionRequest,
} from './rest/transfer.js';
export {
  DEAD_LETTER_HEADERS,
  DEAD_LETTERS_PREFIX,
  DEAD_LETTERS_STREAM,
  DURABLE_CONSUMERS,
  deadLetterSubject,
  EVENTS_STREAM,
  EVENTS_STREAM_DEFAULTS,
  EVENTS_SUBJECTS,
  type EventsStreamOptions,
  GATEWAY_SESSIONS_BUCKET,
  LIVE_PREFIX,
  liveSubject,
  type RedriveReply,
  redriveSubject,
} from './streams.js';
export {
  parseSubject,
  stockSubject,
  subjectMatches,
  subjectOf,
  transferSubject,
  warehousesOfSubject,
} from './subjects.js';
export {
  CLIENT_MESSAGE_TYPES,
  ClientMessage,
  CONTROL_FRAME_TYPES,
  ControlFrame,
  EventFrame,
  framesOfMessage,
  isControlFrame,
  ResetReason,
  type ServerFrame,
  WS_BATCH,
  WS_CLOSE,
  WS_LIMITS,
  WS_PATHS,
  WsErrorCode,
} from './ws-protocol.js';
