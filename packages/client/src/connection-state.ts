import type { ConnectionState } from './types.js';

/**
 * What moves a client's connection from one state to another:
 * - `connect`: the application called `connect()`;
 * - `opened`: a socket opened (the client then resubscribes every channel from its cursor);
 * - `lost`: the socket closed or failed without the application asking, or no token could be had (the client
 *   then waits its backoff, or the delay a gateway's `reconnect` frame suggested, and opens another);
 * - `retry`: the wait is over, or the network came back (`online`): another socket is being opened;
 * - `close`: the application called `close()`, or a newer connection took the durable session over (4409):
 *   the client stops for good until `connect()`.
 */
export type ConnectionInput = 'connect' | 'opened' | 'lost' | 'retry' | 'close';

/**
 * Every allowed transition, in one place. An input a state does not list is ignored (e.g. a late `opened` of a
 * socket a `close()` already abandoned). `connecting` is the first attempt; once a connection was lost the
 * client stays `reconnecting` through every wait and attempt until a socket opens.
 */
const TRANSITIONS: Record<ConnectionState, Partial<Record<ConnectionInput, ConnectionState>>> = {
  closed: { connect: 'connecting' },
  connecting: { opened: 'open', lost: 'reconnecting', close: 'closed' },
  open: { lost: 'reconnecting', close: 'closed' },
  reconnecting: { opened: 'open', lost: 'reconnecting', retry: 'reconnecting', close: 'closed' },
};

/** The state after `input`, or null when the input does not apply in `state`. */
export function nextConnectionState(state: ConnectionState, input: ConnectionInput): ConnectionState | null {
  return TRANSITIONS[state][input] ?? null;
}
