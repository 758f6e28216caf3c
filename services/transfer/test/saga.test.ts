import { DURABLE_CONSUMERS, type Transfer, type TransferEventData } from '@inv/contracts';
import { eventually } from '@inv/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  failedAnswer,
  newTransferBody,
  publishAnswer,
  reservedAnswer,
  type TransferFixture,
  transferFixture,
  uniqueId,
} from './support.js';

describe("transfer saga: inventory's reservation answers", () => {
  let f: TransferFixture;
  beforeAll(async () => {
    f = await transferFixture();
  });
  afterAll(async () => f?.close());

  const approved = async (): Promise<Transfer> => {
    const created = await f.api.create(newTransferBody([{ productId: uniqueId('p'), quantity: 4 }]));
    return f.api.must(created.body.transferId, 'approve');
  };
  /** Waits until the durable consumer has taken the event in (applied or deliberately ignored). */
  const consumed = (eventId: string) =>
    eventually(
      async () => {
        const rows = await f.sql('select 1 from inbox where consumer = ? and event_id = ?', [
          DURABLE_CONSUMERS.transferReservations.name,
          eventId,
        ]);
        return rows.length === 1;
      },
      { message: `event ${eventId} consumed` },
    );
  const typesOf = async (transferId: string) => (await f.eventsOf(transferId)).map((s) => s.event.type);

  it('marks the stock reserved once, however often the answer is delivered', async () => {
    const transfer = await approved();
    const answer = reservedAnswer(transfer);
    await publishAnswer(f.nc, answer);
    const reserved = await f.api.until(transfer.transferId, (t) => t.reservationStatus === 'reserved');
    expect(reserved).toMatchObject({ status: 'approved', version: 3 });
    // Redeliveries as the broker would make them after a lost ack: the same event under new message ids.
    for (const copy of [1, 2, 3]) await publishAnswer(f.nc, answer, copy);
    const marker = failedAnswer(transfer, 0);
    await publishAnswer(f.nc, marker);
    await consumed(marker.id);
    const after = (await f.api.get(transfer.transferId)).body;
    expect(after).toMatchObject({ status: 'approved', reservationStatus: 'reserved', version: 3 });
    expect(await typesOf(transfer.transferId)).toEqual([
      'transfer.requested',
      'transfer.approved',
      'transfer.stock_reserved',
    ]);
    const [{ n }] = await f.sql('select count(*)::int as n from inbox where event_id = ?', [answer.id]);
    expect(n).toBe(1);
  });

  it("rejects the transfer when the source lacks stock, as the system, with inventory's reason", async () => {
    const transfer = await approved();
    const answer = failedAnswer(transfer, 1);
    await publishAnswer(f.nc, answer);
    const rejected = await f.api.until(transfer.transferId, (t) => t.status === 'rejected');
    expect(rejected).toMatchObject({
      reservationStatus: 'failed',
      rejectionReason:
        'INSUFFICIENT_STOCK at wh-src: line-1 (' +
        transfer.lines[0]!.productId +
        ') requested 4, available 1',
    });
    expect(rejected.history.at(-1)).toMatchObject({
      from: 'approved',
      to: 'rejected',
      actor: 'system:inventory',
    });
    const stored = await f.eventsOf(transfer.transferId);
    const last = stored.at(-1)!;
    expect(last.event.type).toBe('transfer.rejected');
    expect(last.event.causationId).toBe(answer.id);
    expect(last.event.data as TransferEventData).toMatchObject({
      status: 'rejected',
      previousStatus: 'approved',
      reservationStatus: 'failed',
      actor: 'system:inventory',
      // Live subscribers of the destination read events too: the event names the place, not the quantities.
      reason: 'the stock could not be reserved at wh-src (quantities are shown to callers of wh-src)',
    });
  });

  it('ignores an answer for a transfer cancelled meanwhile (inventory releases on the cancel event)', async () => {
    const transfer = await approved();
    const cancelled = await f.api.must(transfer.transferId, 'cancel', { reason: 'changed our mind' });
    const answer = reservedAnswer(transfer);
    await publishAnswer(f.nc, answer);
    await consumed(answer.id);
    const after = (await f.api.get(transfer.transferId)).body;
    expect(after).toMatchObject({
      status: 'cancelled',
      reservationStatus: 'released',
      version: cancelled.version,
    });
    expect(await typesOf(transfer.transferId)).toEqual([
      'transfer.requested',
      'transfer.approved',
      'transfer.cancelled',
    ]);
  });

  it('sets aside an answer for an unknown transfer and goes on with the next', async () => {
    const stranger = reservedAnswer({ ...(await approved()), transferId: uniqueId('unknown') });
    await publishAnswer(f.nc, stranger);
    const transfer = await approved();
    await publishAnswer(f.nc, reservedAnswer(transfer));
    await f.api.until(transfer.transferId, (t) => t.reservationStatus === 'reserved');
    await consumed(stranger.id);
  });

  it('applies an answer that arrived while the service was down once it is back, and only once', async () => {
    const transfer = await approved();
    await f.service.stop();
    const answer = reservedAnswer(transfer);
    await publishAnswer(f.nc, answer);
    await f.restart();
    await f.api.until(transfer.transferId, (t) => t.reservationStatus === 'reserved');
    await f.restart();
    await publishAnswer(f.nc, answer, 9);
    const marker = failedAnswer(transfer, 0);
    await publishAnswer(f.nc, marker);
    await consumed(marker.id);
    expect((await f.api.get(transfer.transferId)).body.version).toBe(3);
    expect((await typesOf(transfer.transferId)).filter((t) => t === 'transfer.stock_reserved')).toHaveLength(
      1,
    );
  });
});
