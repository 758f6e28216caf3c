import { DomainError } from '@inv/contracts';
import { describe, expect, it } from 'vitest';
import { ReadGate } from './read-gate.js';

/** A piece of work that finishes when the test says so. */
function held() {
  let release!: () => void;
  const done = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { work: () => done, release };
}

describe('ReadGate', () => {
  it('runs at most `concurrency` reads, queues `queue` more and refuses the next with SERVER_BUSY', async () => {
    const gate = new ReadGate({ concurrency: 2, queue: 1, retryAfterSeconds: 3 });
    const [a, b, c] = [held(), held(), held()];
    const running = [gate.run(a.work), gate.run(b.work), gate.run(c.work)];
    expect(gate.stats).toEqual({ active: 2, waiting: 1, writes: 0 });
    const refused = await gate.run(async () => 'never').catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(DomainError);
    expect(refused).toMatchObject({ code: 'SERVER_BUSY', details: { retryAfterSeconds: 3 } });
    a.release();
    await running[0];
    // The waiting read took the place that was freed.
    expect(gate.stats).toEqual({ active: 2, waiting: 0, writes: 0 });
    b.release();
    c.release();
    await Promise.all(running);
    expect(gate.stats).toEqual({ active: 0, waiting: 0, writes: 0 });
  });

  it('frees its place when a read fails', async () => {
    const gate = new ReadGate({ concurrency: 1, queue: 0 });
    await expect(gate.run(async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await gate.run(async () => 'ok')).toBe('ok');
    expect(gate.stats).toEqual({ active: 0, waiting: 0, writes: 0 });
  });

  it('gives reads fewer places while writes are in flight, and the places back when they end', async () => {
    const gate = new ReadGate({ concurrency: 3, concurrencyBesideWrites: 1, queue: 10 });
    gate.writeStarted();
    const [a, b, c] = [held(), held(), held()];
    const running = [gate.run(a.work), gate.run(b.work), gate.run(c.work)];
    expect(gate.stats).toEqual({ active: 1, waiting: 2, writes: 1 });
    a.release();
    await running[0];
    // One place beside the write: the next read took it, the last one still waits.
    expect(gate.stats).toEqual({ active: 1, waiting: 1, writes: 1 });
    gate.writeEnded();
    expect(gate.stats).toEqual({ active: 2, waiting: 0, writes: 0 });
    b.release();
    c.release();
    await Promise.all(running);
    expect(gate.stats).toEqual({ active: 0, waiting: 0, writes: 0 });
  });

  it('keeps reads running when a write starts: only new reads wait', async () => {
    const gate = new ReadGate({ concurrency: 2, concurrencyBesideWrites: 1, queue: 10 });
    const [a, b, c] = [held(), held(), held()];
    const first = [gate.run(a.work), gate.run(b.work)];
    gate.writeStarted();
    const third = gate.run(c.work);
    expect(gate.stats).toEqual({ active: 2, waiting: 1, writes: 1 });
    a.release();
    await first[0];
    // Still one read over the places beside the write: the waiting read stays queued.
    expect(gate.stats).toEqual({ active: 1, waiting: 1, writes: 1 });
    b.release();
    await first[1];
    expect(gate.stats).toEqual({ active: 1, waiting: 0, writes: 1 });
    c.release();
    await third;
    gate.writeEnded();
    expect(gate.stats).toEqual({ active: 0, waiting: 0, writes: 0 });
  });

  it('gives a held place back once however often it is released', async () => {
    const gate = new ReadGate({ concurrency: 1, queue: 1 });
    const release = await gate.hold();
    const next = gate.hold();
    release();
    release();
    (await next)();
    expect(gate.stats).toEqual({ active: 0, waiting: 0, writes: 0 });
  });
});
