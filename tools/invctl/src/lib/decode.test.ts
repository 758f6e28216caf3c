import { createEvent, EVENTS_STREAM, stockSubject, subjectOf } from '@inv/contracts';
import { describe, expect, it } from 'vitest';
import { decodeMessage, rowSummary } from './decode.js';

const event = createEvent(
  'inventory.updated',
  {
    inventoryId: 'inv-1',
    productId: 'p1',
    warehouseId: 'w1',
    variantId: null,
    uomId: null,
    quantityAvailable: 15,
    quantityReserved: 3,
    minimumStock: 0,
    version: 2,
    previousQuantity: 20,
    changeAmount: -5,
    previousReserved: 0,
    reservedChange: 3,
    movementType: 'reservation',
    movementId: '7',
    transferId: 't1',
    reason: null,
    source: null,
    location: null,
    timestamp: '2026-11-22T10:00:00.000Z',
  },
  { aggregate: { type: 'inventory', id: 'inv-1', version: 2 } },
);

const message = (subject: string, payload: string) => ({
  seq: 7,
  subject,
  time: new Date('2026-11-22T10:00:01.000Z'),
  headers: undefined,
  data: new TextEncoder().encode(payload),
});

describe('decodeMessage', () => {
  it('decodes a valid event and summarises it', () => {
    const row = decodeMessage(EVENTS_STREAM, message(subjectOf(event), JSON.stringify(event)));
    expect(row).toMatchObject({ seq: 7, valid: true, event: { id: event.id } });
    expect(rowSummary(row)).toBe('reservation -5: available 15, reserved 3 (+3), v2');
  });

  it("summarises the webhook bridge's endpoint events in words", () => {
    const paused = createEvent(
      'webhooks.endpoint_paused',
      {
        endpointId: 'ep-1',
        reason: '3 consecutive events failed for the whole retry period',
        failures: 3,
        version: 2,
        timestamp: '2026-11-22T10:00:00.000Z',
      },
      { aggregate: { type: 'webhook_endpoint', id: 'ep-1', version: 2 } },
    );
    const row = decodeMessage(EVENTS_STREAM, message(subjectOf(paused), JSON.stringify(paused)));
    expect(rowSummary(row)).toBe(
      'webhook endpoint ep-1 paused after 3 failed event(s): 3 consecutive events failed for the whole retry period',
    );
  });

  it('keeps an undecodable message as an invalid row with the reason and the payload', () => {
    const row = decodeMessage(EVENTS_STREAM, message(subjectOf(event), '{"type":"inventory.updated"'));
    expect(row).toMatchObject({
      valid: false,
      error: { reason: 'invalid_envelope' },
      payload: '{"type":"inventory.updated"',
    });
    expect(rowSummary(row)).toMatch(/^INVALID invalid_envelope: not JSON/);
  });

  it('flags an EVENTS message on a subject its event does not belong on, but not in other streams', () => {
    const elsewhere = stockSubject({ productId: 'p1', warehouseId: 'w2' }, 'inventory.updated');
    expect(decodeMessage(EVENTS_STREAM, message(elsewhere, JSON.stringify(event)))).toMatchObject({
      valid: false,
      error: { reason: 'subject_mismatch' },
    });
    expect(decodeMessage('REPLAY', message(`replay.${elsewhere}`, JSON.stringify(event))).valid).toBe(true);
  });
});
