import type { ConsumerInfo, StreamInfo } from '@nats-io/jetstream';
import { describe, expect, it } from 'vitest';
import { retentionPressure } from './retention.js';

const HOUR_NS = 3_600 * 1e9;

function stream(
  limits: { maxAgeHours?: number; maxBytes?: number },
  state: { first: number; last: number; bytes: number },
) {
  return {
    config: {
      name: 'EVENTS',
      max_age: (limits.maxAgeHours ?? 0) * HOUR_NS,
      max_bytes: limits.maxBytes ?? -1,
      max_msgs: -1,
    },
    state: {
      first_seq: state.first,
      last_seq: state.last,
      messages: state.last - state.first + 1,
      bytes: state.bytes,
    },
  } as unknown as StreamInfo;
}
function consumer(ackFloor: number, pending: number) {
  return {
    name: 'c',
    ack_floor: { stream_seq: ackFloor },
    num_pending: pending,
    num_ack_pending: 0,
  } as unknown as ConsumerInfo;
}

describe('retentionPressure', () => {
  const now = new Date('2026-12-01T12:00:00Z');

  it('measures the age of the oldest unprocessed message against max_age', () => {
    const p = retentionPressure(
      stream({ maxAgeHours: 10 }, { first: 1, last: 100, bytes: 10_000 }),
      consumer(10, 5),
      new Date('2026-12-01T03:00:00Z'),
      now,
    );
    expect(p).toMatchObject({ age: 0.9, status: 'warning', unprocessed: 5, lost: 0 });
  });

  it('estimates the bytes from the ack floor on against max_bytes with the average message size', () => {
    // 100 messages of 100 bytes; 30 after the ack floor = 3,000 of 10,000 bytes.
    const p = retentionPressure(
      stream({ maxBytes: 10_000 }, { first: 1, last: 100, bytes: 10_000 }),
      consumer(70, 2),
      null,
      now,
    );
    expect(p).toMatchObject({ bytes: 0.3, age: null, status: 'ok' });
  });

  it('ignores a caught-up consumer however full the stream is, and reports a discarded backlog', () => {
    const full = stream({ maxBytes: 10_000 }, { first: 51, last: 150, bytes: 10_000 });
    expect(retentionPressure(full, consumer(20, 0), null, now)).toMatchObject({ pressure: 0, status: 'ok' });
    expect(retentionPressure(full, consumer(20, 7), null, now)).toMatchObject({ status: 'lost', lost: 30 });
  });
});
