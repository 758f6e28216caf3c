import { headers } from '@nats-io/nats-core';
import { describe, expect, it } from 'vitest';
import {
  isEventsSubject,
  parseTargetSubject,
  REPLAY_HEADERS,
  type ReplayRun,
  replayedUpTo,
  replayMsgId,
  replayRun,
  replayRunHeaders,
  targetFromStreamSubjects,
  targetKey,
  targetSubjectOf,
} from './plan.js';

describe('replay targets', () => {
  it('puts the original subject under a prefix, or everything onto one subject', () => {
    const prefix = parseTargetSubject('replay.>')!;
    expect(targetSubjectOf(prefix, 'transfer.t1.from.a.to.b.approved')).toBe(
      'replay.transfer.t1.from.a.to.b.approved',
    );
    const single = parseTargetSubject('reprocess.inventory')!;
    expect(targetSubjectOf(single, 'transfer.t1.from.a.to.b.approved')).toBe('reprocess.inventory');
  });

  it.each(['replay.*', '>', 'a.*.>', 'a..b', 'a b'])('refuses %j as a target', (spec) => {
    expect(parseTargetSubject(spec)).toBeNull();
  });

  it('takes the target from a stream with a single subject', () => {
    expect(targetFromStreamSubjects(['replay.>'])).toEqual({ kind: 'prefix', prefix: 'replay' });
    expect(targetFromStreamSubjects(['a.>', 'b.>'])).toBeNull();
  });

  it('gives one message id per source message and target', () => {
    const key = targetKey('REPLAY', parseTargetSubject('replay.>')!);
    expect(replayMsgId('EVENTS', 42, key)).toBe('replay:EVENTS:42:REPLAY:replay.>');
    expect(replayMsgId('EVENTS', 42, key)).not.toBe(replayMsgId('EVENTS', 42, 'OTHER:replay.>'));
  });

  it('recognises the subjects of the EVENTS stream', () => {
    expect(isEventsSubject('transfer.t1.from.a.to.b.approved')).toBe(true);
    expect(isEventsSubject('replay.transfer.t1')).toBe(false);
  });
});

describe('replayedUpTo', () => {
  const run = replayRun('EVENTS', 'R:replay.>', ['transfer.>']);
  const stored = (other: Partial<ReplayRun>, seq: number | string = 1234) => {
    const result = headers();
    for (const [name, value] of replayRunHeaders({ ...run, ...other }, 1, 'transfer.x'))
      result.set(name, value);
    result.set(REPLAY_HEADERS.sourceSeq, String(seq));
    return result;
  };

  it('reads how far an earlier run of the same replay got', () => {
    expect(replayedUpTo(stored({}), run)).toBe(1234);
  });

  it('ignores other replays (source, target or subjects) and anything else', () => {
    expect(replayedUpTo(stored({ sourceStream: 'OTHER' }), run)).toBeNull();
    expect(replayedUpTo(stored({ targetKey: 'R:x' }), run)).toBeNull();
    expect(replayedUpTo(stored({ filter: 'inventory.>' }), run)).toBeNull();
    expect(replayedUpTo(stored({}, 'x'), run)).toBeNull();
    expect(replayedUpTo(undefined, run)).toBeNull();
  });
});
