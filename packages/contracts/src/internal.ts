// For sibling packages only (`@inv/contracts/internal`): building the AsyncAPI document, and the NATS subject
// pattern of a channel kind. Not part of the contract clients program against.
export { buildAsyncApiDocument, formatAsyncApiDocument, subjectPatternOf } from './asyncapi.js';
