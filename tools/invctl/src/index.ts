export { buildProgram, run } from './cli.js';
export { type DecodedRow, decodeMessage, summarize } from './lib/decode.js';
export { CliError, EXIT, UsageError } from './lib/errors.js';
export type { Io, TextSink } from './lib/io.js';
export { mergeBySeq } from './lib/merge.js';
export { parseTime } from './lib/parse.js';
export { buildSelection, resolveRange, type Selection, selectsSubject } from './lib/selection.js';
export { type Difference, diffStock, type StockState } from './rebuild/diff.js';
export { REPLAY_HEADERS, replayMsgId } from './replay/plan.js';
