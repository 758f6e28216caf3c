/**
 * Where one client's subscription to one channel stands. Every change of state goes through `nextState`, so the
 * allowed ones are written down here and nowhere else:
 *
 * - `pending`: created; waiting for a replay slot, the channel's hub or a look at the stream. Not a member of
 *   the hub: no live event reaches it.
 * - `holding`: a member of the hub whose live events are held back while its position is looked up (the
 *   stream's bounds for a resume, the newest visible event for a confined caller).
 * - `catching-up`: the position is known and confirmed; the events after it are being sent from the stream or
 *   the recent-events window while live events are still held back.
 * - `live`: live events go straight to the client.
 * - `ended`: unsubscribed, replaced or closed. Final: whatever was in flight for it finds it ended and stops.
 */
export type ChannelState = 'pending' | 'holding' | 'catching-up' | 'live' | 'ended';

export type ChannelStep =
  /** Joins the hub with live events held back. */
  | 'hold'
  /** Leaves the hub again (too much live traffic while looking): back to waiting, to resume from the stream. */
  | 'unhold'
  /** The position is known: the events after it are sent before the held ones. */
  | 'position'
  /** Joins the hub at its position, or hands over from the catch-up: live from here on. */
  | 'go-live'
  | 'end';

const STEPS: Record<ChannelState, Partial<Record<ChannelStep, ChannelState>>> = {
  pending: { hold: 'holding', 'go-live': 'live', end: 'ended' },
  holding: { unhold: 'pending', position: 'catching-up', end: 'ended' },
  'catching-up': { 'go-live': 'live', end: 'ended' },
  live: { end: 'ended' },
  ended: {},
};

export class ChannelStateError extends Error {
  constructor(
    readonly state: ChannelState,
    readonly step: ChannelStep,
  ) {
    super(`a ${state} channel subscription cannot ${step}`);
    this.name = 'ChannelStateError';
  }
}

/** The state after `step`; throws for a step the state does not allow (a bug in the caller, never input). */
export function nextState(state: ChannelState, step: ChannelStep): ChannelState {
  const next = STEPS[state][step];
  if (!next) throw new ChannelStateError(state, step);
  return next;
}

/** Live events are held back for the client in these states. */
export const holdsLiveEvents = (state: ChannelState) => state === 'holding' || state === 'catching-up';

/** The client was told its position (it may be stored and confirmed) in these states. */
export const isPositioned = (state: ChannelState) => state === 'catching-up' || state === 'live';
