import { describe, expect, it } from 'vitest';
import {
  type ChannelState,
  ChannelStateError,
  type ChannelStep,
  holdsLiveEvents,
  isPositioned,
  nextState,
} from './channel-state.js';

const STATES: ChannelState[] = ['pending', 'holding', 'catching-up', 'live', 'ended'];
const STEPS: ChannelStep[] = ['hold', 'unhold', 'position', 'go-live', 'end'];

/** Every allowed step, written out once more: a change to the machine must change this table too. */
const ALLOWED: Array<[ChannelState, ChannelStep, ChannelState]> = [
  ['pending', 'hold', 'holding'],
  ['pending', 'go-live', 'live'],
  ['pending', 'end', 'ended'],
  ['holding', 'unhold', 'pending'],
  ['holding', 'position', 'catching-up'],
  ['holding', 'end', 'ended'],
  ['catching-up', 'go-live', 'live'],
  ['catching-up', 'end', 'ended'],
  ['live', 'end', 'ended'],
];

describe('the state of a client channel', () => {
  it('allows exactly the listed steps', () => {
    for (const state of STATES) {
      for (const step of STEPS) {
        const allowed = ALLOWED.find(([from, by]) => from === state && by === step);
        if (allowed) expect(nextState(state, step)).toBe(allowed[2]);
        else expect(() => nextState(state, step)).toThrow(ChannelStateError);
      }
    }
  });

  it('goes from a resume to live through holding and catching up', () => {
    const states: ChannelState[] = ['pending'];
    for (const step of ['hold', 'position', 'go-live', 'end'] as ChannelStep[]) {
      states.push(nextState(states.at(-1)!, step));
    }
    expect(states).toEqual(['pending', 'holding', 'catching-up', 'live', 'ended']);
  });

  it('holds live events only while holding or catching up, and is positioned once caught up or live', () => {
    expect(STATES.filter(holdsLiveEvents)).toEqual(['holding', 'catching-up']);
    expect(STATES.filter(isPositioned)).toEqual(['catching-up', 'live']);
  });

  it('never leaves ended', () => {
    for (const step of STEPS) expect(() => nextState('ended', step)).toThrow(/an? ended channel/);
  });
});
