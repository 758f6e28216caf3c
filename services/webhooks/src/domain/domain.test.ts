import { describe, expect, it } from 'vitest';
import { pauseReason } from './endpoint.js';
import { afterFailure, waitedBefore } from './retry.js';
import { signWebhook, verifyWebhook } from './signature.js';
import { checkWebhookUrl } from './url.js';

describe('webhook URL check', () => {
  it.each([
    'http://127.0.0.1/x',
    'http://localhost:8080/x',
    'http://10.1.2.3/x',
    'http://172.20.0.1/x',
    'http://192.168.1.1/x',
    'http://169.254.169.254/latest/meta-data',
    'http://[::1]/x',
    'http://[fe80::1]/x',
    'http://[::ffff:127.0.0.1]/x',
    'http://0.0.0.0/x',
  ])('refuses %s unless private targets are allowed', (url) => {
    expect(checkWebhookUrl(url, false).ok).toBe(false);
    expect(checkWebhookUrl(url, true).ok).toBe(true);
  });

  it('refuses other schemes and embedded credentials, accepts a public https URL', () => {
    expect(checkWebhookUrl('ftp://example.com/x', true).ok).toBe(false);
    expect(checkWebhookUrl('https://user:pw@example.com/x', true).ok).toBe(false);
    expect(checkWebhookUrl('not a url', true).ok).toBe(false);
    expect(checkWebhookUrl('https://hooks.example.com/inv', false).ok).toBe(true);
  });
});

describe('retry schedule', () => {
  const day = 24 * 60 * 60 * 1000;
  const production = { baseMs: 1_000, maxDelayMs: 60 * 60 * 1000, giveUpAfterMs: day };

  it('keeps retrying for at least 24 hours, with doubling delays capped at an hour', () => {
    let attempt = 1;
    let decision = afterFailure(production, attempt);
    const delays: number[] = [];
    while (decision.action === 'retry') {
      delays.push(decision.delayMs);
      decision = afterFailure(production, ++attempt);
    }
    expect(delays.slice(0, 4)).toEqual([1_000, 2_000, 4_000, 8_000]);
    expect(Math.max(...delays)).toBe(60 * 60 * 1000);
    expect(waitedBefore(production, attempt)).toBeGreaterThanOrEqual(day - 60 * 60 * 1000);
    expect(waitedBefore(production, attempt + 1)).toBeGreaterThan(day);
  });
});

describe('signature', () => {
  it('accepts its own signature and refuses an old timestamp, a changed body and a wrong secret', () => {
    const now = Date.now();
    const ts = Math.floor(now / 1000);
    const signature = signWebhook('s3cret-s3cret-s3cret', ts, '{"a":1}');
    const headers = { signature, timestamp: String(ts) };
    expect(verifyWebhook('s3cret-s3cret-s3cret', headers, '{"a":1}', now).ok).toBe(true);
    expect(verifyWebhook('s3cret-s3cret-s3cret', headers, '{"a":2}', now)).toEqual({
      ok: false,
      reason: 'bad_signature',
    });
    expect(verifyWebhook('other-secret-other', headers, '{"a":1}', now).ok).toBe(false);
    expect(verifyWebhook('s3cret-s3cret-s3cret', headers, '{"a":1}', now + 6 * 60 * 1000)).toEqual({
      ok: false,
      reason: 'too_old',
    });
    expect(verifyWebhook('s3cret-s3cret-s3cret', {}, '{"a":1}', now).ok).toBe(false);
  });
});

describe('pause after a run of dead letters', () => {
  it('pauses only once the run reaches the limit, and says how long the run was', () => {
    expect(pauseReason(2, 3)).toBeNull();
    expect(pauseReason(3, 3)).toBe('3 consecutive events failed for the whole retry period');
    expect(pauseReason(4, 3)).toContain('4 consecutive');
  });
});
