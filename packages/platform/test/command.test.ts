import { DomainError } from '@inv/contracts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashRequest } from '../src/idempotency/command.js';
import { ConcurrencyConflict, runCommand } from '../src/index.js';
import { type PlatformFixture, platformFixture, scalar } from './support.js';

describe('commands', () => {
  let f: PlatformFixture;
  beforeAll(async () => {
    f = await platformFixture();
    await f.orm.em.fork().execute('create table counter (id int primary key, n int not null)');
    await f.orm.em.fork().execute('insert into counter values (1, 0)');
  });
  afterAll(async () => f?.close());

  const count = () => scalar(f.orm, 'select n from counter where id = 1');
  const increment = () =>
    runCommand({
      orm: f.orm,
      idempotency: { scope: 'test increment', key: 'k-1', requestHash: hashRequest({ by: 1 }) },
      successStatus: 201,
      work: async (em) => {
        await em.execute('update counter set n = n + 1 where id = 1');
        return { n: await count() };
      },
    });

  it('applies a request with an Idempotency-Key once and replays its first response', async () => {
    const before = await count();
    const results = await Promise.all([increment(), increment(), increment()]);
    expect(await count()).toBe(before + 1);
    expect(results.filter((r) => !r.replayed)).toHaveLength(1);
    const first = results.find((r) => !r.replayed)!;
    for (const r of results) {
      expect(r.status).toBe(201);
      expect(r.body).toEqual(first.body);
    }
    const later = await increment();
    expect(later).toMatchObject({ replayed: true, status: 201, body: first.body });
    expect(await count()).toBe(before + 1);
  });

  it('refuses the same key with a different request', async () => {
    await expect(
      runCommand({
        orm: f.orm,
        idempotency: { scope: 'test increment', key: 'k-1', requestHash: hashRequest({ by: 2 }) },
        work: async () => ({}),
      }),
    ).rejects.toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });
  });

  it('retries a lost race after 100, 200 and 400 ms, then answers OPTIMISTIC_LOCK_FAILURE', async () => {
    let attempts = 0;
    const started = Date.now();
    const error = await runCommand({
      orm: f.orm,
      work: async () => {
        attempts++;
        throw new ConcurrencyConflict();
      },
    }).catch((e: unknown) => e);
    expect(attempts).toBe(4);
    expect(error).toBeInstanceOf(DomainError);
    expect(error).toMatchObject({
      code: 'OPTIMISTIC_LOCK_FAILURE',
      details: { reason: 'RETRIES_EXHAUSTED' },
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(700);
  });

  it('re-runs a lost race at once when the client named its version, so the answer is the stale-version one', async () => {
    const attempts: number[] = [];
    const started = Date.now();
    const error = await runCommand({
      orm: f.orm,
      expectedVersion: 3,
      work: async () => {
        attempts.push(Date.now() - started);
        if (attempts.length === 1) throw new ConcurrencyConflict();
        throw new DomainError('OPTIMISTIC_LOCK_FAILURE', 'changed by someone else', {
          reason: 'STALE_VERSION',
        });
      },
    }).catch((e: unknown) => e);
    expect(attempts).toHaveLength(2);
    expect(attempts[1]!).toBeLessThan(100);
    expect(error).toMatchObject({ code: 'OPTIMISTIC_LOCK_FAILURE', details: { reason: 'STALE_VERSION' } });
  });

  it('succeeds when a retry wins, applying the change once', async () => {
    const before = await count();
    let attempts = 0;
    const outcome = await runCommand({
      orm: f.orm,
      retryDelaysMs: [1, 1, 1],
      work: async (em) => {
        await em.execute('update counter set n = n + 1 where id = 1');
        if (++attempts < 3) throw new ConcurrencyConflict();
        return 'ok';
      },
    });
    expect(outcome).toEqual({ status: 200, body: 'ok', replayed: false });
    expect(await count()).toBe(before + 1);
  });

  it('does not retry a domain refusal', async () => {
    let attempts = 0;
    await expect(
      runCommand({
        orm: f.orm,
        work: async () => {
          attempts++;
          throw new DomainError('INSUFFICIENT_STOCK', 'not enough');
        },
      }),
    ).rejects.toMatchObject({ code: 'INSUFFICIENT_STOCK' });
    expect(attempts).toBe(1);
  });
});
